// kafkajs 2.2 against eddy server, run by kafka_kafkajs.sh: the admin client creates a topic, a
// producer (acks=-1, gzip) sends 3000 messages with keys and headers, and a consumer group of two
// members consumes every message exactly once. Prints "ok: ..." lines; exits 1 on failure.
import { createRequire } from "node:module";

const require = createRequire(process.argv[2] + "/");
const { Kafka, CompressionTypes, logLevel } = require("kafkajs");

const broker = process.argv[3];
const topic = "js-events";
const N = 3000;
const fail = (msg) => {
  console.log(`FAIL: ${msg}`);
  process.exit(1);
};

const kafka = new Kafka({ clientId: "kafkajs-test", brokers: [broker], logLevel: logLevel.WARN });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
const topics = await admin.listTopics();
if (!topics.includes(topic)) fail(`'${topic}' not listed after createTopics`);
console.log(`ok: admin created and listed '${topic}' (4 partitions)`);

const producer = kafka.producer();
await producer.connect();
for (let start = 0; start < N; start += 500) {
  const messages = [];
  for (let i = start; i < start + 500; i++) {
    messages.push({ key: `k${i % 11}`, value: `value ${i}`, headers: { n: String(i) } });
  }
  await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
}
await producer.disconnect();
console.log(`ok: producer (acks=-1, gzip) sent ${N} messages`);

const seen = new Map();
const members = [];
let done;
const all = new Promise((resolve) => (done = resolve));
for (const name of ["a", "b"]) {
  const consumer = kafka.consumer({ groupId: "js-group", sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const n = Number(message.headers.n.toString());
      if (message.value.toString() !== `value ${n}` || message.key.toString() !== `k${n % 11}`) {
        fail(`message ${n}: key/value do not match its header`);
      }
      seen.set(n, (seen.get(n) || 0) + 1);
      if (seen.size === N) done();
    },
  });
  members.push(consumer);
}
const timer = setTimeout(() => fail(`consumed ${seen.size} of ${N} in 60 s`), 60000);
await all;
await new Promise((r) => setTimeout(r, 1000)); // duplicates would arrive now
clearTimeout(timer);
for (const c of members) await c.disconnect();
const dups = [...seen.values()].filter((c) => c > 1).length;
if (dups) fail(`${dups} messages consumed more than once`);
const groups = await admin.describeGroups(["js-group"]);
await admin.disconnect();
console.log(`ok: a group of 2 consumed all ${N} messages once (group state after leaving: ${groups.groups[0].state})`);
