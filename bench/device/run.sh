#!/usr/bin/env bash
# GPU checks on a lent device machine (no Node, no npm, no network there): run from the repository
# root after `node bench/device/pack.js` here, carrying .gpu/payload, .gl (Vulkan/EGL loaders, see
# the device README) and the project file named by $PROJECT (made here with `atelier import`).
# Every stage is bounded by a timeout and writes its output under $OUT.
#
#   PROJECT=.gpu/emoji.atelier bash bench/device/run.sh
#   STAGES="torch profile" bash bench/device/run.sh     (a subset: numeric train ada gallery metrics step torch profile sweep)
set -u
STAGES=" ${STAGES:-numeric train step torch} "
on() { [[ "$STAGES" == *" $1 "* ]]; }
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
T0=$(date +%s)
stage() { echo "== $1 ($(($(date +%s) - T0)) s)"; }

stage setup
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
W=/tmp/atelier
mkdir -p "$W"
tar -C "$W" -xJf .gpu/payload/app.tar.xz
xz -dc .gpu/payload/node.xz > "$W/node" && chmod +x "$W/node"
NODE="$W/node"
APP="$W/app"
REPO=$(pwd)
cp "${PROJECT:-.gpu/emoji.atelier}" "$W/p.atelier"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
ldconfig -p | grep -E 'libvulkan|libEGL' | head -3
echo "node $("$NODE" --version); nproc $(nproc)"

if on numeric; then
stage "numeric: webgpu against cpu (outputs and gradients of a tiny G+D pair, R1-style double backprop)"
(cd "$APP" && ATELIER_TEST=1 ATELIER_TEST_WEBGPU=1 timeout 90 "$NODE" --test --test-name-pattern='webgpu' webgpu.test.js webgpu-kernels.test.js webgpu-augment.test.js) > "$OUT/numeric.txt" 2>&1
tail -n 12 "$OUT/numeric.txt"
# The fused kernels (epilogues, modulation/demodulation, firDown2x, leading-axis sums, Adam, reduce gradients) against cpu.
(cd "$APP" && ATELIER_TEST=1 ATELIER_TEST_WEBGPU=1 timeout 120 "$NODE" --test webgpu-fused.test.js webgpu-fir-down.test.js webgpu-lead-sum.test.js webgpu-adam.test.js webgpu-reduce-grads.test.js) > "$OUT/numeric-fused.txt" 2>&1
tail -n 8 "$OUT/numeric-fused.txt"
fi

if on train; then
stage "train: automatic backend, paused by Ctrl+C, then resumed"
(cd "$APP" && timeout -s INT "${TRAIN_S:-50}" "$NODE" cli.js train "$W/p.atelier" --preset baseline --kimg "${KIMG:-20}" --seed 1 --json) > "$OUT/train.jsonl" 2> "$OUT/train.err"
echo "exit $?"; grep -E '"type":"(started|end|checkpoint)"' "$OUT/train.jsonl" | cut -c1-400; grep '"type":"tick"' "$OUT/train.jsonl" | tail -n 2 | cut -c1-500; tail -n 3 "$OUT/train.err"
(cd "$APP" && timeout -s INT "${RESUME_S:-30}" "$NODE" cli.js train "$W/p.atelier" --resume 1 --json) > "$OUT/resume.jsonl" 2> "$OUT/resume.err"
echo "exit $?"; grep -E '"type":"(started|end|checkpoint)"' "$OUT/resume.jsonl" | cut -c1-400; grep '"type":"tick"' "$OUT/resume.jsonl" | head -n 1 | cut -c1-500; tail -n 3 "$OUT/resume.err"
(cd "$APP" && "$NODE" cli.js info "$W/p.atelier" --json) | cut -c1-400
fi

if on ada; then
stage "train: the ADA preset on the automatic backend"
(cd "$APP" && timeout -s INT "${ADA_S:-45}" "$NODE" cli.js train "$W/p.atelier" --preset ada --kimg "${KIMG:-20}" --seed 2 --json) > "$OUT/ada.jsonl" 2> /dev/null
echo "exit $?"; grep -E '"type":"(started|end)"' "$OUT/ada.jsonl" | cut -c1-300; grep '"type":"tick"' "$OUT/ada.jsonl" | tail -n 2 | cut -c1-700
fi

if on gallery; then
stage "gallery: sampling worker, time to first image and images/s"
(cd "$APP" && timeout 60 "$NODE" gallery.js --backends webgpu --sizes 64,256 --budget-s 15) > "$OUT/gallery.json" 2> /dev/null
grep -E '"(backend|resolution|coldStartMs|firstImageMs|imagesPerSec)"' "$OUT/gallery.json"
fi

if on metrics; then
stage "metrics: the bundled InceptionV3's features per second"
(cd "$APP" && timeout 60 "$NODE" metrics.js --backends webgpu --images 32 --skip-fid --skip-js-large) > "$OUT/metrics.json" 2> /dev/null
grep -E '"(backend|featuresPerSecond|imagesPerSecond|secondsPerImage|kid[A-Za-z]*)"' "$OUT/metrics.json" | head -12
fi

if on step; then
stage "step: webgpu, CPU-class widths (the CPU table's config) and GPU-class widths"
(cd "$APP" && timeout 110 "$NODE" step.js --backends webgpu --sizes 32,64,128 --batch 32 --steps 5 --channel-base 2048 --channel-max 128) > "$OUT/step-webgpu-small.json" 2> /dev/null
(cd "$APP" && timeout 100 "$NODE" step.js --backends webgpu --sizes 64,128 --batch 32 --steps 5 --channel-base 16384 --channel-max 512) > "$OUT/step-webgpu-large.json" 2> /dev/null
grep -E '"(resolution|median|imagesPerSecond|reason)"' "$OUT"/step-webgpu-*.json
fi

if on torch; then
stage "step: PyTorch, same architecture, on the GPU (CUDA) and on the 16 CPU cores"
timeout 50 python3 "$REPO/bench/reference/step.py" --device cuda --sizes 32,64,128 --batch 32 --steps 5 > "$OUT/step-torch-cuda-small.json" 2>&1
timeout 40 python3 "$REPO/bench/reference/step.py" --device cuda --sizes 64,128 --batch 32 --steps 5 --channel-base 16384 --channel-max 512 > "$OUT/step-torch-cuda-large.json" 2>&1
timeout 50 python3 "$REPO/bench/reference/step.py" --device cpu --threads "$(nproc)" --sizes 32,64,128 --batch 32 --steps 3 > "$OUT/step-torch-cpu-small.json" 2>&1
grep -E '"(resolution|median|imagesPerSecond|device|torch)"' "$OUT"/step-torch-*.json
fi

if on profile; then
stage "profile: one webgpu step under tf.profile (kernel count, GPU kernel time vs wall time), submits every 60 (the studio's) and 15 (TF.js's)"
for v in default:'' submit15:WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=15 nofwd:WEBGPU_CPU_FORWARD=false; do
  name=${v%%:*}; flags=${v#*:}
  (cd "$APP" && timeout 60 "$NODE" step.js --backends webgpu --sizes 32,128 --batch 32 --steps 3 --channel-base 2048 --channel-max 128 --profile ${flags:+--flags $flags}) > "$OUT/profile-$name.json" 2>/dev/null
  echo "-- $name"; grep -E '"(resolution|median|kernels|kernelMs|wallMs)"' "$OUT/profile-$name.json"
done
fi

if on sweep; then
stage "sweep: submit batching and Dawn toggles at 128², batch 32 (ms a step, and read one step late)"
for v in default:: submit15:--flags:WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=15 submit240:--flags:WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=240 noval:--dawn-enable:skip_validation norobust:--dawn-enable:disable_robustness; do
  name=${v%%:*}; rest=${v#*:}; flag=${rest%%:*}; value=${rest#*:}
  (cd "$APP" && timeout 45 "$NODE" step.js --backends webgpu --sizes 128 --batch 32 --steps 5 --channel-base 2048 --channel-max 128 --pipeline --no-torch ${flag:+$flag $value}) > "$OUT/sweep-$name.json" 2>/dev/null
  echo "-- $name"; grep -E '"(median|pipelinedMsPerStep)"' "$OUT/sweep-$name.json"
done
fi
stage done
