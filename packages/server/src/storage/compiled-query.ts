import type { Compilable, CompiledQuery } from "kysely";

const SENTINEL_PREFIX = "\u0000hush-param:";

/**
 * Compiles a Kysely query once, with named parameters, and returns a binder that fills in the
 * values per call. Building and compiling a query costs more than running it on SQLite, so the
 * refresh hot path compiles its two queries at start-up and only binds values per request.
 *
 * @example
 * const byId = compileOnce((p) => db.selectFrom("users").selectAll().where("id", "=", p("id")));
 * await db.executeQuery(byId({ id }));
 */
export function compileOnce<R, K extends string>(
  // A parameter stands in for a value of any column type, hence `never` (assignable to all).
  build: (param: (name: K) => never) => Compilable<R>,
): (values: Record<K, unknown>) => CompiledQuery<R> {
  const compiled = build((name) => `${SENTINEL_PREFIX}${name}` as never).compile();
  const slots = compiled.parameters.map((value) =>
    typeof value === "string" && value.startsWith(SENTINEL_PREFIX) ? (value.slice(SENTINEL_PREFIX.length) as K) : undefined,
  );
  if (!slots.some((slot) => slot !== undefined)) throw new Error("compileOnce: the query has no named parameter");
  return (values) => ({
    ...compiled,
    parameters: slots.map((slot, i) => (slot === undefined ? compiled.parameters[i] : values[slot])),
  });
}
