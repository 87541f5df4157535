// Validates what tests/ops/helmrender rendered (objects.json and values.json of each output
// directory given) with the schemas of the npm packages pinned in package.json:
//   - values.json against the chart's values.schema.json (ajv, JSON Schema draft-07 as Helm);
//   - every object with its kubernetes-models class (the Kubernetes 1.36 OpenAPI schema, the
//     prometheus-operator and Gateway API CRD schemas): required fields, types, formats, enums;
//   - every object as a TypeScript literal of the package's interface (tsc --noEmit): an
//     object literal may only name known properties, so unknown fields are rejected at any
//     depth, which the OpenAPI schemas alone do not do (the API server does, with strict
//     field validation).
// usage: node validate.mjs <chart dir> <render output dir>...   Exit 0 when all is valid.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";

const here = dirname(fileURLToPath(import.meta.url));
const [chartDir, ...outDirs] = process.argv.slice(2);
if (!chartDir || outDirs.length === 0) {
  console.error("usage: node validate.mjs <chart dir> <render output dir>...");
  process.exit(2);
}

// apiVersion/kind -> module of its model (the interface is I<kind>)
function modelModule(apiVersion, kind) {
  if (apiVersion === "monitoring.coreos.com/v1") {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  if (apiVersion.startsWith("gateway.networking.k8s.io/")) {
    return `@kubernetes-models/gateway-api/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const problems = [];
const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8"));
const ajv = new Ajv({ allErrors: true, strict: false });
const validateValues = ajv.compile(schema);

const tsLines = [];
const tsOwner = []; // line index -> "set: Kind name"
let checked = 0;
for (const dir of outDirs) {
  const set = dir.replace(/.*\/out-/, "");
  const values = JSON.parse(readFileSync(join(dir, "values.json"), "utf8"));
  if (!validateValues(values)) {
    for (const e of validateValues.errors) {
      problems.push(`${set}: values${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
  const objects = JSON.parse(readFileSync(join(dir, "objects.json"), "utf8"));
  for (const o of objects) {
    const where = `${set}: ${o.kind} ${o.metadata?.name}`;
    const mod = modelModule(o.apiVersion, o.kind);
    let Model;
    try {
      Model = (await import(mod))[o.kind];
    } catch (e) {
      problems.push(`${where}: no schema for ${o.apiVersion} ${o.kind} (${mod})`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
    const id = `o${checked++}`;
    tsLines.push(`import type { I${o.kind} as T_${id} } from "${mod}";`);
    tsOwner.push(where);
    const body = `export const ${id}: T_${id} = ${JSON.stringify(o, null, 1)};`.split("\n");
    for (const line of body) {
      tsLines.push(line);
      tsOwner.push(where);
    }
  }
}

// tsc resolves the packages from the node_modules next to this file (its copy in the build dir)
const work = join(here, "tscheck");
mkdirSync(work, { recursive: true });
writeFileSync(join(work, "objects.ts"), tsLines.join("\n") + "\n");
writeFileSync(join(work, "tsconfig.json"), JSON.stringify({
  compilerOptions: {
    strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext",
    target: "es2022", skipLibCheck: true, types: [],
  },
  files: ["objects.ts"],
}));
try {
  execFileSync(process.execPath, [join(here, "node_modules", "typescript", "bin", "tsc"), "-p", work],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
} catch (e) {
  const out = `${e.stdout || ""}${e.stderr || ""}`;
  const errors = out.split("\n").filter((l) => l.includes("error TS"));
  if (errors.length === 0) problems.push(`tsc failed: ${out || e.message}`);
  for (const l of errors) {
    const m = l.match(/objects\.ts\((\d+),\d+\): (error TS\d+: .*)/);
    const line = m ? Number(m[1]) - 1 : -1;
    problems.push(m ? `${tsOwner[line]}: ${m[2]} (at ${tsLines[line].trim()})` : l);
  }
}

console.log(`schema check: ${checked} objects of ${outDirs.length} value sets`);
for (const p of problems) console.log("  PROBLEM:", p);
process.exit(problems.length ? 1 : 0);
