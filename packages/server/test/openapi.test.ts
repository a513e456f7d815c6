import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, type TestServer } from "./test-server.js";

for (const database of TEST_DATABASES)
  describe(`GET /auth/openapi.json [${database}]`, () => {
    let t: TestServer;
    let doc: {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>>;
    };
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
      const response = await fetch(`${t.url}/auth/openapi.json`);
      expect(response.status).toBe(200);
      doc = await response.json();
    });
    afterAll(() => t.close());

    it("is an OpenAPI 3.1 document", () => {
      expect(doc.openapi).toBe("3.1.0");
    });

    it("describes exactly the routes the server answers, no more and no fewer", () => {
      const documented = Object.entries(doc.paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`))
        .sort();
      const routed = t.server.routes.map((r) => `${r.method} ${r.path}`).sort();
      expect(documented).toEqual(routed);
    });

    it("takes its request bodies from the schemas that validate them", () => {
      const signup = doc.paths["/auth/signup"]?.post?.requestBody?.content["application/json"]?.schema;
      expect(signup).toMatchObject({ type: "object", required: ["email", "password"] });
      const password = doc.paths["/auth/password"]?.post?.requestBody?.content["application/json"]?.schema;
      expect(Object.keys(password?.properties ?? {})).toEqual(["currentPassword", "newPassword"]);
    });
  });
