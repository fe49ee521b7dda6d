// The page of `lab10 serve`: the shared drawing page (pad.js) with its predictions from this
// server's JSON API. The server prepares a drawing as MNIST was made (lab10-image).
import { Pad, modelRows, showRow, showSeen } from "./pad.js";

const statusBox = document.getElementById("status");
const seenCanvas = document.getElementById("seen");
const sampleLabel = document.getElementById("sample-label");
let classes = [];
let testImages = 0;
let rows = [];
let busy = false;
let again = false;
let ready = "";

function say(message, isError) {
  statusBox.textContent = message;
  statusBox.classList.toggle("error", !!isError);
}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// The API's answer for one image: each row's model by experiment and run.
function show(result) {
  showSeen(seenCanvas, result.input);
  for (const tr of rows) {
    const m = result.models.find((p) => p.experiment === tr.dataset.model &&
      p.run === tr.dataset.run);
    showRow(tr, m ? m.probabilities : null, classes);
  }
}

async function predict(body) {
  try {
    show(await api("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }));
    say(ready);
  } catch (e) {
    say("prediction failed: " + e.message, true);
  }
}

// The pad's ink (its alpha channel, 0-255), one request at a time.
async function predictDrawing() {
  if (busy) { again = true; return; }
  busy = true;
  const rgba = pad.rgba();
  const ink = new Array(rgba.length / 4);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];
  await predict({ canvas: { width: pad.canvas.width, height: pad.canvas.height, ink } });
  busy = false;
  if (again) { again = false; predictDrawing(); }
}

function forgetSample() {
  sampleLabel.textContent = "";
  delete sampleLabel.dataset.label;
}

const pad = new Pad(document.getElementById("pad"), {
  onInk: predictDrawing,
  onStroke: forgetSample,
});

function clearPad() {
  pad.clear();
  forgetSample();
  show({ input: null, models: [] });
}

document.getElementById("clear").addEventListener("click", clearPad);
document.getElementById("random").addEventListener("click", async () => {
  try {
    const sample = await api("/api/sample?index=" + Math.floor(Math.random() * testImages));
    clearPad();
    pad.showDigit((i) => Math.round(sample.pixels[i] * 255));
    sampleLabel.textContent = `test image #${sample.index}: label ${sample.class}`;
    sampleLabel.dataset.label = String(sample.label);
    await predict({ pixels: sample.pixels });
  } catch (e) {
    say("could not load a test digit: " + e.message, true);
  }
});

try {
  const info = await api("/api/models");
  classes = info.classes;
  testImages = info.test_images;
  rows = modelRows(document.querySelector("#models tbody"), info.models.map((m) => ({
    key: m.experiment,
    label: m.experiment,
    title: m.run,
    accuracy: m.test_accuracy,
  })), classes);
  info.models.forEach((m, i) => { rows[i].dataset.run = m.run; });
  clearPad();
  ready = `${info.models.length} model(s) trained on ${info.dataset}. Draw a digit, or pick a ` +
    "random test digit.";
  say(ready);
  document.body.dataset.ready = "true";
} catch (e) {
  say("could not load the models: " + e.message, true);
}
