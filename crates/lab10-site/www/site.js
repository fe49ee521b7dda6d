// The page of `lab10 site`: the shared drawing page (pad.js, as `lab10 serve`'s) with its
// predictions from the models in this browser. The models and the preparation of a drawing are
// Rust, compiled to WebAssembly (crates/lab10-site/wasm): this script only loads them and shows
// what they answer. Everything it needs is in this folder (site.json, wasm/, models/,
// digits.bin).
import init, { Models, prepare } from "./wasm/lab10_site_wasm.js";
import { Pad, modelRows, showRow, showSeen } from "./pad.js";

const statusBox = document.getElementById("status");
const seenCanvas = document.getElementById("seen");
const sampleLabel = document.getElementById("sample-label");
const digitInput = document.getElementById("digit");
let rows = [];

// What the page did, for people and for the tests and benchmarks that drive it. Timings are
// performance.now(): milliseconds since the page's navigation started.
const lab10 = { timings: { script: performance.now() }, problems: [], last: null, prepare };
window.lab10 = lab10;

function say(message, isError) {
  statusBox.textContent = message;
  statusBox.classList.toggle("error", !!isError);
}

class SiteError extends Error {}

const REWRITE = "write the site again with `lab10 site --force` (docs/site.md)";

// A file of the site, or a SiteError naming it: a 404 means the site lacks the file.
async function fetchOk(path) {
  let response;
  try {
    // Each path segment encoded: an experiment's name may hold any character.
    response = await fetch(path.split("/").map(encodeURIComponent).join("/"));
  } catch (e) {
    throw new SiteError(`${path}: could not be fetched (${e.message}); is the server still up?`);
  }
  if (response.status === 404) {
    throw new SiteError(`${path}: HTTP 404, the site has no such file; ${REWRITE}`);
  }
  if (!response.ok) {
    throw new SiteError(`${path}: HTTP ${response.status} ${response.statusText}`);
  }
  return response;
}

// A trap inside the WebAssembly (a panic) leaves the module unusable: no model is added after.
class Crashed extends SiteError {}

// Adds one model to `models` from its weights (`body`: the fetched bytes' promise); a problem
// is said on its row and returned.
async function addModel(models, m, row, body) {
  try {
    const bytes = new Uint8Array(await body);
    try {
      models.add(JSON.stringify(m.architecture), m.input_scale, bytes, m.weights_sha256);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        throw new Crashed(`${m.weights} (${m.label}) crashed the WebAssembly module ` +
          `(${e.message}); the models after it were not loaded; ${REWRITE}`);
      }
      throw new SiteError(`${m.weights} (${m.label}): ${e.message}; ${REWRITE}`);
    }
    return null;
  } catch (e) {
    if (e instanceof Crashed) throw e;
    row.classList.add("failed");
    row.querySelector(".predicted").textContent = "!";
    row.querySelector(".conf").textContent = "not loaded";
    row.title = e.message;
    return e.message;
  }
}

// One row per model of the manifest, in its order.
function buildRows(manifest) {
  rows = modelRows(document.querySelector("#models tbody"), manifest.models.map((m) => ({
    key: m.label,
    label: m.label,
    title: m.description,
    detail: `${m.widths}, ${m.params.toLocaleString("en-US")} parameters`,
    accuracy: m.test_accuracy,
  })), manifest.classes);
}

async function load() {
  const manifest = await (await fetchOk("site.json")).json();
  lab10.manifest = manifest;
  buildRows(manifest);
  try {
    await init();
  } catch (e) {
    throw new SiteError(
      `the WebAssembly module (wasm/lab10_site_wasm_bg.wasm) did not start: ${e.message}. ` +
      "It needs a browser with WebAssembly SIMD (Chrome/Edge 91+, Firefox 89+, Safari 16.4+).");
  }
  lab10.timings.wasm = performance.now();

  // The models, in the manifest's order; the loaded ones get their row's index.
  const models = new Models();
  const loaded = [];
  // Every file is fetched at once, the models added in order; a failure is handled where it
  // is awaited (the empty catches only keep the browser from calling it unhandled first).
  const digitsPromise = fetchOk(manifest.digits.file).then((r) => r.arrayBuffer());
  digitsPromise.catch(() => {});
  const bodies = manifest.models.map((m) => fetchOk(m.weights).then((r) => r.arrayBuffer()));
  for (const body of bodies) body.catch(() => {});
  for (let i = 0; i < manifest.models.length; i++) {
    const problem = await addModel(models, manifest.models[i], rows[i], bodies[i]);
    if (problem) lab10.problems.push(problem);
    else loaded.push(i);
  }
  lab10.models = models;
  lab10.loaded = loaded;
  lab10.timings.models = performance.now();
  const digits = new Uint8Array(await digitsPromise);
  if (digits.length !== manifest.digits.count * 784) {
    throw new SiteError(`${manifest.digits.file} has ${digits.length} bytes, not ` +
      `${manifest.digits.count} digits of 784; ${REWRITE}`);
  }
  lab10.digits = digits;
  return { manifest, models, loaded, digits };
}

let site = null;

// Every loaded model's probabilities for one 28x28 image (a Float32Array of [0, 1] values),
// shown in the table; the result is also kept in `lab10.last`.
function show(input) {
  showSeen(seenCanvas, input);
  const classes = site.manifest.classes;
  const n = classes.length;
  const all = input ? site.models.predict(input) : null;
  const result = { input: input ? Array.from(input) : null, models: [] };
  site.loaded.forEach((modelIndex, j) => {
    const tr = rows[modelIndex];
    const p = all ? Array.from(all.subarray(j * n, (j + 1) * n)) : null;
    const predicted = showRow(tr, p, classes);
    result.models.push({ model: tr.dataset.model, probabilities: p, predicted });
  });
  lab10.last = result;
  if (lab10.timings.first === undefined && input) {
    lab10.timings.first = performance.now();
  }
}

// Forgets the test digit shown (its label), and a drawing's prediction not made yet.
function forgetSample() {
  pad.cancel();
  sampleLabel.textContent = "";
  sampleLabel.classList.remove("error");
  delete sampleLabel.dataset.label;
  delete sampleLabel.dataset.index;
}

// A drawing: prepared as MNIST was made by the same Rust code as `lab10 serve`'s.
const pad = new Pad(document.getElementById("pad"), {
  onInk() {
    if (!site) return;
    const rgba = pad.rgba();
    const input = prepare(new Uint8Array(rgba.buffer), pad.canvas.width, pad.canvas.height);
    show(input.length ? input : null);
  },
  onStroke() {
    if (sampleLabel.dataset.index !== undefined || sampleLabel.textContent) forgetSample();
  },
});

function clearPad() {
  forgetSample();
  pad.clear();
  if (site) show(null);
}

function showDigit(index) {
  const pixels = site.digits.subarray(784 * index, 784 * (index + 1));
  clearPad();
  pad.showDigit((i) => pixels[i]);
  const label = site.manifest.digits.labels[index];
  sampleLabel.textContent = `test image #${index}: ${site.manifest.classes[label]}`;
  sampleLabel.dataset.label = String(label);
  sampleLabel.dataset.index = String(index);
  digitInput.value = String(index);
  const input = new Float32Array(784);
  for (let i = 0; i < 784; i++) input[i] = pixels[i] / 255;
  show(input);
}

function wire() {
  document.getElementById("clear").addEventListener("click", clearPad);
  document.getElementById("random").addEventListener("click", () => {
    showDigit(Math.floor(Math.random() * site.manifest.digits.count));
  });
  document.getElementById("pick").addEventListener("submit", (event) => {
    event.preventDefault();
    const index = Number(digitInput.value);
    if (digitInput.value !== "" && Number.isInteger(index) && index >= 0 &&
        index < site.manifest.digits.count) {
      showDigit(index);
    } else {
      sampleLabel.textContent =
        `Test digit # is a whole number from 0 to ${site.manifest.digits.count - 1}.`;
      sampleLabel.classList.add("error");
    }
  });
  for (const el of document.querySelectorAll("button, input")) el.disabled = false;
}

try {
  clearPad();
  // Opened as a file: the page's first script has said why nothing can load (some browsers
  // still run this module from a file).
  if (location.protocol === "file:") throw null;
  site = await load();
  lab10.showDigit = showDigit;
  if (site.loaded.length === 0) {
    throw new SiteError(`no model could be loaded: ${lab10.problems.join(" ")}`);
  }
  wire();
  showDigit(Math.floor(Math.random() * site.manifest.digits.count));
  const n = site.loaded.length;
  const ms = (lab10.timings.first).toFixed(0);
  if (lab10.problems.length) {
    say(`${n} of ${site.manifest.models.length} models loaded. ${lab10.problems.join(" ")}`, true);
  } else {
    say(`${n} models loaded in your browser (${ms} ms). Draw a digit, or pick a test digit.`);
  }
  document.body.dataset.state = lab10.problems.length ? "partial" : "ready";
} catch (e) {
  if (e !== null) {
    say(e instanceof SiteError ? e.message : `the page failed: ${e.message}`, true);
    document.body.dataset.state = "error";
    console.error(e);
  }
}
