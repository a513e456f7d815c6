import { hush } from "../lib/hush";

export default async function Home() {
  const auth = await hush.getServerAuth();
  return (
    <section>
      <h1>Hush notes</h1>
      <p data-testid="server-user">{auth?.user ? `Signed in as ${auth.user.email}` : "Signed out"}</p>
    </section>
  );
}
