import { describe, expect, it } from "vitest";
import { clientKeyOf } from "./client-key.js";

describe("clientKeyOf", () => {
  it("keys IPv4 clients on their address", () => {
    expect(clientKeyOf("203.0.113.9")).toBe("203.0.113.9");
  });

  it("keys every address of one IPv6 /64 alike, however it is written", () => {
    const keys = [
      "2001:db8:1:2::1",
      "2001:db8:1:2:ffff:ffff:ffff:fffe",
      "2001:0db8:0001:0002:0000:0000:0000:0009",
      "2001:db8:1:2::1%eth0",
    ].map(clientKeyOf);
    expect(new Set(keys)).toEqual(new Set(["2001:db8:1:2::/64"]));
    expect(clientKeyOf("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(clientKeyOf("::1")).toBe("0:0:0:0::/64");
  });

  it("treats an IPv4-mapped IPv6 address as its IPv4 address", () => {
    expect(clientKeyOf("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientKeyOf("::ffff:cb00:7109")).toBe("203.0.113.9");
  });

  it("leaves anything else as it is", () => {
    expect(clientKeyOf("unknown")).toBe("unknown");
  });
});
