import { isHushError } from "../errors.js";
import { UnknownSubjectError } from "../services/admin.js";
import type { Command } from "./command.js";
import { openServicesFromEnv } from "./open-services.js";
import { readPassword } from "./read-password.js";

const ACTIONS = ["create", "list", "suspend", "unsuspend", "set-password", "verify", "delete", "mfa-reset"] as const;

export const usersCommand: Command = {
  summary: "create, list, suspend, unsuspend, verify or delete users, or set a password",
  help: `Usage: hush users create EMAIL         (password from standard input)
       hush users list
       hush users suspend EMAIL        (ends every session at once; login answers account_suspended)
       hush users unsuspend EMAIL      (sessions ended by the suspension stay ended)
       hush users set-password EMAIL   (password from standard input; ends every session)
       hush users verify EMAIL         (marks the address verified)
       hush users delete EMAIL         (revokes every session, then deletes the user and their data)
       hush users mfa-reset EMAIL      (removes the authenticator app and recovery codes; the user is mailed)

Passwords are read from standard input, never from arguments:
  printf '%s\\n' "$PASSWORD" | npx --no-install hush users create alice@example.com`,
  async run(args, io) {
    const [action, email] = args;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      io.err(`hush users: expected one of ${ACTIONS.join(", ")}. See hush users --help`);
      return 2;
    }
    if (action !== "list" && !email) {
      io.err(`hush users ${action}: an EMAIL is required. See hush users --help`);
      return 2;
    }
    const services = await openServicesFromEnv(io);
    try {
      const admin = services.admin;
      switch (action) {
        case "create": {
          const user = await admin.createUser(email as string, await readPassword("Password: ", io.err));
          io.out(`created ${user.email} (${user.id})`);
          break;
        }
        case "list":
          for (const user of await admin.listUsers()) {
            const status = user.suspendedAt === null ? "active" : "suspended";
            const verified = user.emailVerifiedAt === null ? "unverified" : "verified";
            io.out(`${user.id}\t${user.email}\t${status}\t${verified}\tcreated ${new Date(user.createdAt).toISOString()}`);
          }
          break;
        case "suspend":
          await admin.suspendUser(email as string);
          io.out(`suspended ${email}`);
          break;
        case "unsuspend":
          await admin.unsuspendUser(email as string);
          io.out(`unsuspended ${email}`);
          break;
        case "set-password":
          await admin.setPassword(email as string, await readPassword("New password: ", io.err));
          io.out(`password set for ${email}; every session ended`);
          break;
        case "verify":
          await admin.verifyEmail(email as string);
          io.out(`verified ${email}`);
          break;
        case "mfa-reset":
          await admin.resetMfa(email as string);
          io.out(`second factors removed for ${email}`);
          break;
        case "delete":
          await admin.deleteUser(email as string);
          io.out(`deleted ${email}; every session ended`);
          break;
      }
      return 0;
    } catch (error) {
      if (error instanceof UnknownSubjectError || isHushError(error)) {
        io.err(`hush users ${action}: ${error.message}`);
        return 1;
      }
      throw error;
    } finally {
      await services.close();
    }
  },
};
