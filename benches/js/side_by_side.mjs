// Side-by-side benchmark, JavaScript half: the official JS client (@azure-rest/confidential-ledger
// on Node) against the sandbox that benches/side_by_side.sh started, on the same work as the Rust
// and Python halves. Prints one JSON object.
//   node side_by_side.mjs writes --sandbox FILE --seconds S --concurrency 1,32
//   node side_by_side.mjs status --sandbox FILE --seconds S --concurrency 1,32 --id TX
// The client is built as its README says for certificate authentication: the service certificate
// as the ledger identity, the administrator's certificate and key as tlsOptions. Node is single
// threaded: "in flight" is that many concurrent async loops sharing one client.
import { readFileSync } from "node:fs";
import ConfidentialLedgerModule from "@azure-rest/confidential-ledger";

// The package is CommonJS: its default export may come wrapped.
const ConfidentialLedger = ConfidentialLedgerModule.default ?? ConfidentialLedgerModule;

const WARM_UP = 0.5;
const ENTRY_BYTES = 100;

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const args = { command };
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith("--") || rest[i + 1] === undefined) {
      throw new Error(`bad argument ${rest[i]}`);
    }
    args[rest[i].slice(2)] = rest[i + 1];
  }
  return args;
}

function contents(label, writer, i) {
  return `side-by-side ${label} writer ${String(writer).padStart(2, "0")} entry ${String(i).padStart(8, "0")} `.padEnd(ENTRY_BYTES, ".");
}

function makeClient(info) {
  const pem = readFileSync(info.adminPemPath, "utf8");
  const serviceCertificate = readFileSync(info.serviceCertificatePath, "utf8");
  return ConfidentialLedger(info.ledgerEndpoint, serviceCertificate, {
    tlsOptions: { cert: pem, key: pem },
  });
}

function check(response, what) {
  if (response.status !== "200") {
    throw new Error(`${what}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response;
}

// Runs op(writer, i) in `concurrency` loops for WARM_UP unmeasured, then for `seconds`; returns
// operations per second and this process's CPU time per operation.
async function rate(concurrency, seconds, op) {
  let counter = 0;
  const run = async (window) => {
    const deadline = performance.now() + window * 1000;
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (performance.now() < deadline) {
          await op(w, counter++);
          done += 1;
        }
      }),
    );
    return done;
  };
  await run(WARM_UP);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const done = await run(seconds);
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: done / elapsed, cpu_us: (used.user + used.system) / Math.max(1, done) };
}

async function rates(args, opFor) {
  const info = JSON.parse(readFileSync(args.sandbox, "utf8"));
  const out = {};
  for (const concurrency of args.concurrency.split(",").map(Number)) {
    const client = makeClient(info);
    out[String(concurrency)] = await rate(concurrency, Number(args.seconds), opFor(client));
  }
  return { js: out };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let result;
  if (args.command === "writes") {
    result = await rates(args, (client) => async (w, i) =>
      check(
        await client.path("/app/transactions").post({ body: { contents: contents("js", w, i) } }),
        "write",
      ));
  } else if (args.command === "status") {
    result = await rates(args, (client) => async () =>
      check(await client.path("/app/transactions/{transactionId}/status", args.id).get(), "status"));
  } else {
    throw new Error(`unknown command ${args.command}`);
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
