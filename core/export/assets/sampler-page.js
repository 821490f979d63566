/*
 * GAN Atelier's standalone sampler: draws the generator in model.js for a seed, ψ and class,
 * with TensorFlow.js (tf.min.js, beside this file) and seed → z from atelier-latents.js. Nothing
 * is fetched: the page works opened from disk, offline, in any current browser.
 *
 * For scripts and tests: window.atelierSampler = { ready, render(seed, psi, classIndex), seedToZ, info }.
 */
(function () {
  'use strict';
  var M = window.ATELIER_MODEL;
  var info = M.info;
  var latents = window.atelierLatents;
  var $ = function (id) {
    return document.getElementById(id);
  };
  var canvas = $('image');
  var seedInput = $('seed');
  var psiInput = $('psi');
  var psiOut = $('psi-value');
  var classSelect = $('class');
  var statusEl = $('status');
  var channels = info.colourMode === 'grayscale' ? 1 : 3;
  var size = info.resolution;
  var drawn = 0;

  function setStatus(text, state) {
    statusEl.textContent = text;
    if (state) document.body.setAttribute('data-state', state);
  }

  function bufferFromBase64(text) {
    var bin = atob(text);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  if (info.classes.length > 0) {
    info.classes.forEach(function (name, i) {
      var o = document.createElement('option');
      o.value = String(i);
      o.textContent = i + ' · ' + name;
      classSelect.appendChild(o);
    });
  } else {
    $('class-field').hidden = true;
  }

  var ready = tf.ready().then(function () {
    return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: M.modelTopology, weightSpecs: M.weightSpecs, weightData: bufferFromBase64(M.weights) }));
  });

  /** Pixels (Float32Array of 0–255 values, [R, R, C]) for a seed, ψ and class. */
  function render(seed, psi, classIndex) {
    return ready.then(function (model) {
      var z = latents.seedToZ(seed, info.zSize);
      var feeds = { z: tf.tensor2d(z, [1, info.zSize]), psi: tf.scalar(psi) };
      if (info.classes.length > 0) {
        var c = new Float32Array(info.classes.length);
        c[classIndex] = 1;
        feeds['class'] = tf.tensor2d(c, [1, info.classes.length]);
      }
      var image = model.execute(feeds, 'image');
      var pixels = tf.tidy(function () {
        return image.clipByValue(-1, 1).add(1).mul(127.5).round();
      });
      return pixels.data().then(function (data) {
        tf.dispose([image, pixels, feeds.z, feeds.psi, feeds['class']].filter(Boolean));
        return data;
      });
    });
  }

  function readSeed() {
    var text = seedInput.value.trim();
    if (!/^\d+$/.test(text) || Number(text) > latents.MAX_SEED) return null;
    return Number(text);
  }

  function draw() {
    var seed = readSeed();
    var psi = Number(psiInput.value);
    var classIndex = info.classes.length > 0 ? Number(classSelect.value) : 0;
    psiOut.textContent = psi.toFixed(2);
    if (seed === null) {
      setStatus('The seed must be a whole number from 0 to ' + latents.MAX_SEED + '.', 'error');
      return Promise.resolve();
    }
    var ticket = ++drawn;
    setStatus('Drawing seed ' + seed + '…');
    return render(seed, psi, classIndex).then(function (data) {
      if (ticket !== drawn) return; // a newer request is on its way
      var img = canvas.getContext('2d').createImageData(size, size);
      for (var p = 0; p < size * size; p++) {
        img.data[p * 4] = data[p * channels];
        img.data[p * 4 + 1] = data[p * channels + (channels === 3 ? 1 : 0)];
        img.data[p * 4 + 2] = data[p * channels + (channels === 3 ? 2 : 0)];
        img.data[p * 4 + 3] = 255;
      }
      canvas.getContext('2d').putImageData(img, 0, 0);
      canvas.setAttribute('data-seed', String(seed));
      setStatus('Seed ' + seed + ', ψ ' + psi.toFixed(2) + (info.classes.length > 0 ? ', class ' + info.classes[classIndex] : '') + ' · TensorFlow.js on ' + tf.getBackend() + '.', 'drawn');
    });
  }

  function step(delta) {
    var seed = readSeed();
    seedInput.value = String(Math.min(latents.MAX_SEED, Math.max(0, (seed === null ? 0 : seed) + delta)));
    return draw();
  }

  function fail(err) {
    setStatus('Could not run the generator: ' + (err && err.message ? err.message : String(err)), 'error');
  }

  $('controls').addEventListener('submit', function (e) {
    e.preventDefault();
    draw().catch(fail);
  });
  seedInput.addEventListener('change', function () {
    draw().catch(fail);
  });
  psiInput.addEventListener('input', function () {
    draw().catch(fail);
  });
  classSelect.addEventListener('change', function () {
    draw().catch(fail);
  });
  $('prev').addEventListener('click', function () {
    step(-1).catch(fail);
  });
  $('next').addEventListener('click', function () {
    step(1).catch(fail);
  });
  $('random').addEventListener('click', function () {
    seedInput.value = String(Math.floor(Math.random() * 1000000));
    draw().catch(fail);
  });

  window.atelierSampler = {
    ready: ready.then(function () {
      return true;
    }),
    render: render,
    seedToZ: latents.seedToZ,
    info: info,
  };
  ready.then(draw).catch(fail);
})();
