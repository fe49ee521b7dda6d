// The page of `lab10 site`. The models and the preparation of a drawing are Rust, compiled to
// WebAssembly (crates/lab10-site/wasm): this script only loads them, draws, and shows what
// they answer. Everything it needs is in this folder (site.json, wasm/, models/, digits.bin).
import init, { Models, prepare } from "./wasm/lab10_site_wasm.js";

const statusBox = document.getElementById("status");
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const seen = document.getElementById("seen").getContext("2d");
const sampleLabel = document.getElementById("sample-label");
const digitInput = document.getElementById("digit");
const rows = [...document.querySelectorAll("tr.model")];

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

async function load() {
  const manifest = await (await fetchOk("site.json")).json();
  lab10.manifest = manifest;
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
  const image = seen.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = input ? Math.round(input[i] * 255) : 0;
    image.data.set([v, v, v, 255], 4 * i);
  }
  seen.putImageData(image, 0, 0);
  const classes = site.manifest.classes;
  const n = classes.length;
  const all = input ? site.models.predict(input) : null;
  const result = { input: input ? Array.from(input) : null, models: [] };
  site.loaded.forEach((modelIndex, j) => {
    const tr = rows[modelIndex];
    const p = all ? Array.from(all.subarray(j * n, (j + 1) * n)) : null;
    let predicted = -1;
    if (p) predicted = p.reduce((best, v, k) => (v > p[best] ? k : best), 0);
    tr.querySelectorAll(".bar").forEach((bar, k) => {
      const v = p ? p[k] : 0;
      bar.dataset.p = String(v);
      bar.classList.toggle("top", k === predicted);
      bar.querySelector(".fill").style.height = (100 * v).toFixed(1) + "%";
      bar.title = `${classes[k]}: ${(100 * v).toFixed(1)} %`;
    });
    tr.dataset.predicted = p ? String(predicted) : "";
    tr.querySelector(".predicted").textContent = p ? classes[predicted] : "\u2013";
    tr.querySelector(".conf").textContent = p ? (100 * p[predicted]).toFixed(1) + " %" : "";
    result.models.push({ model: tr.dataset.model, probabilities: p, predicted });
  });
  lab10.last = result;
  if (lab10.timings.first === undefined && input) {
    lab10.timings.first = performance.now();
  }
}

// Drawing: black strokes 18 px wide on a transparent 280x280 canvas, as on `lab10 serve`'s
// page; the ink is the canvas's alpha channel.
let drawing = false;
let lastPoint = null;
let pending = null;

function predictDrawing() {
  if (pending !== null) return;
  pending = requestAnimationFrame(() => {
    pending = null;
    const rgba = ctx.getImageData(0, 0, pad.width, pad.height).data;
    const input = prepare(new Uint8Array(rgba.buffer), pad.width, pad.height);
    show(input.length ? input : null);
  });
}

function point(event) {
  const r = pad.getBoundingClientRect();
  return {
    x: (event.clientX - r.left) * pad.width / r.width,
    y: (event.clientY - r.top) * pad.height / r.height,
  };
}

// Forgets the test digit shown (its label), and a drawing's prediction not made yet.
function forgetSample() {
  if (pending !== null) cancelAnimationFrame(pending);
  pending = null;
  sampleLabel.textContent = "";
  sampleLabel.classList.remove("error");
  delete sampleLabel.dataset.label;
  delete sampleLabel.dataset.index;
}

function clearPad() {
  forgetSample();
  ctx.clearRect(0, 0, pad.width, pad.height);
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  ctx.fillStyle = "#000";
  if (site) show(null);
}

function showDigit(index) {
  const pixels = site.digits.subarray(784 * index, 784 * (index + 1));
  clearPad();
  const image = ctx.createImageData(280, 280);
  for (let y = 0; y < 280; y++) {
    for (let x = 0; x < 280; x++) {
      const v = pixels[Math.floor(y / 10) * 28 + Math.floor(x / 10)];
      image.data.set([0, 0, 0, v], 4 * (y * 280 + x));
    }
  }
  ctx.putImageData(image, 0, 0);
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
  pad.addEventListener("pointerdown", (event) => {
    drawing = true;
    if (sampleLabel.dataset.index !== undefined || sampleLabel.textContent) forgetSample();
    pad.setPointerCapture(event.pointerId);
    lastPoint = point(event);
    ctx.beginPath();
    ctx.arc(lastPoint.x, lastPoint.y, 9, 0, 2 * Math.PI);
    ctx.fill();
    predictDrawing();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const p = point(event);
    ctx.beginPath();
    ctx.moveTo(lastPoint.x, lastPoint.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    lastPoint = p;
    predictDrawing();
  });
  for (const type of ["pointerup", "pointercancel"]) {
    pad.addEventListener(type, () => {
      if (!drawing) return;
      drawing = false;
      predictDrawing();
    });
  }
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
