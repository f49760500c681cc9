// The Node snippet of docs/api.md ("Verifying a signature"), run by
// TestDocSnippets against a delivery signed by the Go code.
const crypto = require("crypto");

function verifyWebhook(secret, headers, rawBody) {
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"], sigs = headers["webhook-signature"];
  if (!id || !ts || !sigs) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false; // 5 minutes
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const want = crypto.createHmac("sha256", key).update(`${id}.${ts}.${rawBody}`).digest();
  return sigs.split(" ").some((s) => {
    const [v, b64] = s.split(",");
    const got = Buffer.from(b64 || "", "base64");
    return v === "v1" && got.length === want.length && crypto.timingSafeEqual(got, want);
  });
}

const [secret, id, ts, sig, body] = process.argv.slice(2);
const ok = verifyWebhook(secret, { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig }, body);
process.stdout.write(ok ? "ok" : "refused");
