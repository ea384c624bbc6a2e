// Eclipse Tahu's sparkplug-payload as a line filter for the Python tests:
//   node sp.js decode   each input line: a payload in hex; output: one JSON line
//                       {"payload": decodePayload(...), "raw": the protobuf fields}
//   node sp.js encode   each input line: a JSON payload object; output: its bytes in hex
// 64-bit integers are printed as decimal strings. An undecodable payload
// prints {"error": "..."} instead, so a test can assert on it.
"use strict";
const readline = require("readline");
const sp = require("sparkplug-payload").get("spBv1.0");
const proto = require("sparkplug-payload/lib/sparkplugPayloadProto").org.eclipse.tahu.protobuf;
const Long = require("long");

function plain(key, value) {
    if (value instanceof Long || (value && typeof value === "object" && "low" in value &&
                                  "high" in value && "unsigned" in value))
        return Long.fromValue(value).toString();
    if (value instanceof Uint8Array)
        return Buffer.from(value).toString("hex");
    return value;
}

const mode = process.argv[2];
const rl = readline.createInterface({input: process.stdin});
rl.on("line", (line) => {
    let out;
    try {
        if (mode === "decode") {
            const bytes = Buffer.from(line.trim(), "hex");
            const raw = proto.Payload.toObject(proto.Payload.decode(bytes), {longs: String});
            out = JSON.stringify({payload: sp.decodePayload(bytes), raw: raw}, plain);
        } else {
            const obj = JSON.parse(line);
            out = Buffer.from(sp.encodePayload(obj)).toString("hex");
        }
    } catch (e) {
        out = JSON.stringify({error: String(e)});
    }
    process.stdout.write(out + "\n");
});
