import { UnknownSubjectError } from "../services/admin.js";
import type { Command } from "./command.js";
import { openServicesFromEnv } from "./open-services.js";

export const sessionsCommand: Command = {
  summary: "list a user's sessions or revoke one",
  help: `Usage: hush sessions list EMAIL
       hush sessions revoke SESSION_ID

list    the user's live sessions: id (the sid of their access tokens), created, last used,
        expires, user agent. Empty in HUSH_REFRESH_MODE=stateless, which stores none.
revoke  ends one session: its next refresh fails, and the revocation feed lists it so other
        services drop its access tokens.`,
  async run(args, io) {
    const [action, subject] = args;
    if ((action !== "list" && action !== "revoke") || !subject) {
      io.err(`hush sessions: expected "list EMAIL" or "revoke SESSION_ID". See hush sessions --help`);
      return 2;
    }
    const services = await openServicesFromEnv(io);
    try {
      if (action === "list") {
        for (const s of await services.admin.listSessions(subject)) {
          io.out(
            `${s.id}\tcreated ${new Date(s.createdAt).toISOString()}\tlast used ${new Date(s.lastUsedAt).toISOString()}\texpires ${new Date(s.expiresAt).toISOString()}\t${s.userAgent ?? "-"}`,
          );
        }
      } else {
        await services.admin.revokeSession(subject);
        io.out(`revoked ${subject}`);
      }
      return 0;
    } catch (error) {
      if (error instanceof UnknownSubjectError) {
        io.err(`hush sessions ${action}: ${error.message}`);
        return 1;
      }
      throw error;
    } finally {
      await services.close();
    }
  },
};
