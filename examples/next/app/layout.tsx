import { HushProvider } from "@hush/next/provider";
import type { ReactNode } from "react";
import { SessionStatus } from "../components/session-status";
import { hush } from "../lib/hush";

export const metadata = { title: "Hush notes on Next.js" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The session the proxy signed this navigation in with: handed to the browser client, which
  // then does not refresh again on load.
  const session = await hush.getInitialSession();
  return (
    <html lang="en">
      <body>
        <HushProvider session={session}>
          <header>
            <a href="/">Home</a> · <a href="/notes">Notes</a> · <SessionStatus />
          </header>
          <main>{children}</main>
        </HushProvider>
      </body>
    </html>
  );
}
