import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";

/**
 * A software WebAuthn authenticator for HTTP-level tests: real ES256 keys, real CBOR, real
 * signatures, so the server's ceremony checks run unchanged. (The browser suites use Chromium's
 * virtual authenticator instead.) Each field can be bent to play an attacker.
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  counter = 0;
  userHandle: string | undefined;

  constructor(
    readonly rpId: string,
    readonly origin: string,
    /** Sets the UV flag (a PIN or biometric was checked). */
    readonly userVerified = true,
  ) {}

  get id(): string {
    return this.credentialId.toString("base64url");
  }

  /** A registration response to `options` (as `startRegistration` would return it). */
  register(options: { challenge: string; user: { id: string } }, bend: { origin?: string; rpId?: string; type?: string } = {}) {
    this.userHandle = options.user.id;
    const clientDataJSON = this.clientData(bend.type ?? "webauthn.create", options.challenge, bend.origin);
    const authData = Buffer.concat([this.authData(bend.rpId, true), this.attestedCredential()]);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]) as never,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        attestationObject: Buffer.from(attestationObject).toString("base64url"),
        transports: ["internal"],
      },
    };
  }

  /** An assertion for `challenge` (as `startAuthentication` would return it). */
  assert(challenge: string, bend: { origin?: string; rpId?: string; counter?: number; key?: KeyObject } = {}) {
    if (bend.counter !== undefined) this.counter = bend.counter;
    else this.counter += 1;
    const clientDataJSON = this.clientData("webauthn.get", challenge, bend.origin);
    const authData = this.authData(bend.rpId, false);
    const signed = Buffer.concat([authData, createHash("sha256").update(clientDataJSON).digest()]);
    const signature = sign("sha256", signed, bend.key ?? this.keys.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        authenticatorData: authData.toString("base64url"),
        signature: signature.toString("base64url"),
        userHandle: this.userHandle,
      },
    };
  }

  private clientData(type: string, challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  private authData(rpId = this.rpId, attested: boolean): Buffer {
    const rpIdHash = createHash("sha256").update(rpId).digest();
    // UP (0x01), UV (0x04), AT (0x40) when a credential is attached.
    const flags = 0x01 | (this.userVerified ? 0x04 : 0) | (attested ? 0x40 : 0);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    return Buffer.concat([rpIdHash, Buffer.from([flags]), counter]);
  }

  private attestedCredential(): Buffer {
    const jwk = this.keys.publicKey.export({ format: "jwk" });
    const cose = isoCBOR.encode(
      new Map<number, unknown>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x ?? "", "base64url")],
        [-3, Buffer.from(jwk.y ?? "", "base64url")],
      ]) as never,
    );
    const length = Buffer.alloc(2);
    length.writeUInt16BE(this.credentialId.length);
    return Buffer.concat([Buffer.alloc(16), length, this.credentialId, Buffer.from(cose)]);
  }
}
