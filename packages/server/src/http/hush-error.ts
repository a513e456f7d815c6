import { ERROR_STATUS, type ErrorCode } from "@hush/protocol";

/**
 * The one error class of the server: a wire `code` from the protocol's closed union and a
 * message for humans. The HTTP status is looked up in `ERROR_STATUS`, never chosen by the thrower.
 */
export class HushError extends Error {
  override readonly name = "HushError";
  readonly code: ErrorCode;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`, a cleared cookie). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** True for a `HushError`, also across copies of this package in one process. */
export function isHushError(value: unknown): value is HushError {
  return value instanceof Error && value.name === "HushError" && "code" in value;
}
