/**
 * The database cannot be reached (down, locked past its timeout, out of disk), as opposed to a
 * bug. Storage throws this and nothing else for such failures, so the HTTP layer answers
 * `503 unavailable` without knowing any database's error codes.
 */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";

  constructor(override readonly cause: unknown) {
    super("the database is unavailable");
  }
}

const UNAVAILABLE_CODES = new Set([
  // SQLite: the file is locked past busy_timeout, cannot be opened, or the disk failed.
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  // Network-level failures of a database client.
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
  // PostgreSQL: admin shutdown, cannot connect now, connection failures.
  "57P01",
  "57P03",
  "08000",
  "08003",
  "08006",
]);

const UNAVAILABLE_MESSAGE =
  /connection (terminated|timeout)|timeout exceeded when trying to connect|Connection terminated|driver has already been destroyed|pool after calling end|the database system is (shutting down|starting up)|terminating connection/i;

/** True for a driver error that means the database cannot be reached. */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  if (typeof error !== "object" || error === null) return false;
  const code = "code" in error ? error.code : undefined;
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("SQLITE_IOERR"))) return true;
  const message = "message" in error ? error.message : undefined;
  return typeof message === "string" && UNAVAILABLE_MESSAGE.test(message);
}

/** Rethrows a driver's "cannot reach the database" error as `StorageUnavailableError`, anything else as is. */
export function translateUnavailable(error: unknown): never {
  throw isUnavailableError(error) && !(error instanceof StorageUnavailableError) ? new StorageUnavailableError(error) : error;
}

/**
 * Wraps a storage (or anything else that talks to the database, such as a rate limiter's store)
 * so that every method's "cannot reach the database" failure surfaces as
 * `StorageUnavailableError`. Each method is wrapped once, on first use.
 */
export function withUnavailableErrors<S extends object>(storage: S): S {
  // Keyed by the method itself, so a method replaced on the object gets a wrapper of its own.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(storage, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      let method = wrapped.get(value);
      if (!method) {
        method = (...args: unknown[]) => {
          try {
            const result: unknown = value.apply(target, args);
            return result instanceof Promise ? result.catch(translateUnavailable) : result;
          } catch (error) {
            return translateUnavailable(error);
          }
        };
        wrapped.set(value, method);
      }
      return method;
    },
  });
}
