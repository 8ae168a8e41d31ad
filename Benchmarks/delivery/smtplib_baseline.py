"""The baseline: a plain sequential Python smtplib loop sending the given .eml files to one SMTP server.

Messages are read and their envelopes parsed before the clock starts; only sending is timed.
  --reuse: one connection for the whole loop (the fast way to write such a loop)
  default: a new connection per message (the common naive loop)
Prints: <messages> <seconds>
"""
import email, email.policy, email.utils, os, smtplib, sys, time

port, directory = int(sys.argv[1]), sys.argv[2]
reuse = "--reuse" in sys.argv
messages = []
for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name), "rb") as f:
        data = f.read()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    sender = email.utils.parseaddr(str(msg["From"]))[1]
    rcpt = email.utils.parseaddr(str(msg["To"]))[1]
    messages.append((sender, rcpt, data))

start = time.perf_counter()
if reuse:
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, rcpt, data in messages:
            smtp.sendmail(sender, [rcpt], data)
else:
    for sender, rcpt, data in messages:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail(sender, [rcpt], data)
print(len(messages), time.perf_counter() - start)
