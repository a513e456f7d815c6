import type { PublicUser } from "@hush/protocol";

/**
 * What the client tells subscribers. `source` says where a change came from. `error`: a refresh
 * that failed for now (it is retried), or an `AuthError` `logout_failed` for each attempt at a
 * logout that the server did not confirm (it is retried too). `step-up-required`: a request of
 * `client.fetch` to `url` was refused with RFC 9470's `401 insufficient_user_authentication`; the
 * user must sign in again with the methods `amr`, a context of `acrValues`, or within
 * `maxAgeSeconds` (whatever the server asked for). The client never refreshes for it.
 */
export type AuthEvent =
  | { type: "authenticated"; user: PublicUser }
  | { type: "refreshed"; expiresAt: number; source: "network" | "tab" | "header" }
  | { type: "logged-out"; source: "this-tab" | "other-tab" }
  | { type: "session-expired"; error: string }
  | { type: "error"; error: unknown }
  | { type: "step-up-required"; url: string; amr?: string[]; acrValues?: string[]; maxAgeSeconds?: number };

/** A subscriber to the client's events. */
export type Listener = (event: AuthEvent) => void;

/** A minimal event emitter; a throwing listener never stops the others. */
export function createEmitter() {
  const listeners = new Set<Listener>();
  return {
    /** Calls every listener with `event`, in the order they subscribed. */
    emit(event: AuthEvent): void {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          console.error(error);
        }
      }
    },
    /** Adds `listener`; returns the function that removes it. */
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    /** Removes every listener. */
    clear(): void {
      listeners.clear();
    },
  };
}
