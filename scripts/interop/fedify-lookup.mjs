// Looks up a running Cénacle instance's actors with Fedify, a strict ActivityPub/JSON-LD
// implementation we did not write: each must parse as its type, with a readable public key
// owned by itself, and NodeInfo must parse. Exits non-zero on any failure.
//   LAB_BASE=http://localhost:8700 node fedify-lookup.mjs
import { lookupObject, Person, Group, Application, OrderedCollection, Collection, Page, Note } from "@fedify/vocab";
import { getDocumentLoader } from "@fedify/vocab-runtime";
import { parseNodeInfo } from "@fedify/fedify";

const base = process.env.LAB_BASE;
const loader = getDocumentLoader({ allowPrivateAddress: true });
const options = { documentLoader: loader, contextLoader: loader, crossOrigin: "throw" };
let failures = 0;
let passes = 0;

async function expect(path, type, check) {
  try {
    const object = await lookupObject(new URL(path, base), options);
    if (!(object instanceof type)) throw new Error(`parsed as ${object?.constructor?.name ?? object}, expected ${type.name}`);
    if (check) await check(object);
    console.log(`ok   ${path}: ${type.name}`);
    passes++;
  } catch (error) {
    console.log(`FAIL ${path}: ${error.message}`);
    failures++;
  }
}

async function ownKey(actor) {
  const key = await actor.getPublicKey(options);
  if (!key) throw new Error("no public key");
  if (key.ownerId?.href !== actor.id.href) throw new Error(`key owner ${key.ownerId} is not ${actor.id}`);
  if (!key.publicKey) throw new Error("the key does not parse");
  if (!actor.inboxId || !actor.outboxId) throw new Error("inbox or outbox missing");
}

await expect("/u/marie", Person, ownKey);
await expect("/g/rust", Group, async (group) => {
  await ownKey(group);
  if (!group.followersId) throw new Error("no followers collection");
});
await expect("/actor", Application, ownKey);
await expect("/g/rust/outbox", OrderedCollection);
await expect("/g/rust/followers", Collection);
// The lab's first post is a question with an accepted answer (scripts/lab.py).
await expect("/p/1", Page, async (page) => {
  if (page.name?.toString() !== "Pourquoi Rust ?") throw new Error(`name is ${page.name}`);
  if (!page.attributionId) throw new Error("no attributedTo");
});
await expect("/c/1", Note, async (note) => {
  if (!note.replyTargetId?.href.endsWith("/p/1")) throw new Error(`inReplyTo is ${note.replyTargetId}`);
});

const response = await fetch(new URL("/nodeinfo/2.1", base));
const nodeInfo = parseNodeInfo(await response.json());
if (nodeInfo?.software?.name === "cenacle" && nodeInfo.protocols.includes("activitypub")) {
  console.log("ok   /nodeinfo/2.1: NodeInfo");
  passes++;
} else {
  console.log("FAIL /nodeinfo/2.1: does not parse as NodeInfo 2.1");
  failures++;
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
