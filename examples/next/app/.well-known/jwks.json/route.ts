import { hush } from "../../../lib/hush";

// The public keys, at the issuer's /.well-known/jwks.json: other services (@hush/verify) check
// this app's access tokens with them, without a call per request.
export const { GET } = hush.handlers;
