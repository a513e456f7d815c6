import { type Logger, pino } from "pino";

/**
 * The structured JSON logger. Redaction is a second line of defence: the server never passes
 * credentials to the logger, and these paths catch them should a future change try.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "hush" },
    redact: {
      paths: [
        "password",
        "*.password",
        "*.newPassword",
        "*.currentPassword",
        "*.cookie",
        "*.authorization",
        "*.token",
        "*.refreshToken",
        "*.accessToken",
      ],
      censor: "[redacted]",
    },
  });
}
