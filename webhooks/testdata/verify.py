# The Python snippet of docs/api.md ("Verifying a signature"), run by
# TestDocSnippets against a delivery signed by the Go code.
import base64, hashlib, hmac, sys, time

def verify_webhook(secret, headers, raw_body):
    msg_id, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (msg_id and ts and sigs):
        return False
    if abs(time.time() - int(ts)) > 300:  # 5 minutes
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    want = hmac.new(key, f"{msg_id}.{ts}.".encode() + raw_body, hashlib.sha256).digest()
    for s in sigs.split(" "):
        version, _, b64 = s.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(b64), want):
            return True
    return False

secret, msg_id, ts, sig, body = sys.argv[1:6]
ok = verify_webhook(secret, {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sig}, body.encode())
sys.stdout.write("ok" if ok else "refused")
