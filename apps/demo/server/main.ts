import { startDemo } from "./start-demo.js";

// `npm start`: the demo on http://localhost:5173 (auth server :4000, notes API :4001, demo OpenID provider 127.0.0.1:4002).
const demo = await startDemo({
  authPort: Number(process.env.HUSH_DEMO_AUTH_PORT ?? 4000),
  apiPort: Number(process.env.HUSH_DEMO_API_PORT ?? 4001),
  webPort: Number(process.env.HUSH_DEMO_WEB_PORT ?? 5173),
  idpPort: Number(process.env.HUSH_DEMO_IDP_PORT ?? 4002),
  env: process.env,
});
const mailbox = demo.mailboxUrl ? `\n  dev mailbox ${demo.mailboxUrl}   <- the mails (no SMTP server here)` : "";
const idp = demo.idpUrl
  ? `\n  demo IdP    ${demo.idpUrl}   <- "Sign in with Demo IdP" (its users and passwords are on its login page)`
  : "";
console.log(
  `\nHush demo is running:\n  web app     ${demo.webUrl}   <- open this\n  auth server ${demo.authUrl}\n  notes API   ${demo.apiUrl}${mailbox}${idp}\n\nAccess tokens live 60 s here, so silent refreshes show on the token timeline. Ctrl-C stops.`,
);
const stop = async () => {
  await demo.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
