// Validates Kubernetes manifests against the Kubernetes OpenAPI schema, offline: each document of
// each YAML file named on the command line becomes the kubernetes-models class of its apiVersion
// and kind, whose validate() checks it against that kind's schema (types, required fields, enums,
// formats). Prints one line per document; exits 1 if any document is invalid or of a kind not
// listed here. Run by DeploymentFilesTest.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";

const KINDS = {
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      console.log(`${file}: not YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failed++;
      continue;
    }
    const object = doc.toJS();
    if (object === null) {
      continue;
    }
    const key = `${object.apiVersion}/${object.kind}`;
    const name = `${file}: ${key} ${object.metadata?.name}`;
    const Model = KINDS[key];
    if (!Model) {
      console.log(`${name}: no schema for ${key} here (add it to validate.mjs)`);
      failed++;
      continue;
    }
    try {
      new Model(object).validate();
      console.log(`${name}: valid`);
    } catch (e) {
      console.log(`${name}: INVALID: ${e.message}`);
      failed++;
    }
  }
}
process.exit(failed === 0 ? 0 : 1);
