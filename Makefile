# Flamingo: set-up, build, demo, tests and benchmarks.
# `make demo` and `make test` each install what they need first (Debian 12).

SWIFT        ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
APT_PACKAGES := pkg-config ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libopenblas-dev libdnnl-dev systemd postgresql libsqlite3-dev
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN  := .build/release/flamingo
SAMPLE       := Pipelines/examples/shapes.mp4
BENCH_DIR    := .bench
PYTHON_REF   := .venv-reference/bin/python
TRAIN_OUT    := Training/out/shapes-v1

.PHONY: deps build demo test eval train calibrate-model install-model bench-frames bench-videos bench-engine bench-caption bench-queue bench-smoke fuzz reference-env reference-fixtures clean

## Install the system libraries and the ffmpeg CLI (skipped when already present).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

## The main job on the sample clip with the shipped model: caption it and answer questions about it.
demo: build
	$(RELEASE_BIN) caption $(SAMPLE)
	$(RELEASE_BIN) ask $(SAMPLE) -q "how many shapes are there?" -q "what color is the triangle?" \
	  -q "which way is the green square moving?" -q "is there a white circle?" -q "is anything moving?"

## The test suite (fixtures are made at test time with the ffmpeg CLI; DefaultModelTests run the
## shipped model on the sample clip and `flamingo eval Models/eval --check-bars` on it: every quality
## bar of docs/WORLD.md is a test).
test: deps reference-env
	$(SWIFT) build --build-tests
	bash systemd/check.sh .build/debug/flamingo
	$(SWIFT) test --skip-build --disable-swift-testing

## A model on the committed evaluation set (release build); fails below the bars of docs/WORLD.md.
## `make eval MODEL=Training/out/shapes-v1/model` after `make train`.
MODEL ?= Models/shapes-v1
eval: build
	$(RELEASE_BIN) eval Models/eval --model $(MODEL) --check-bars

## The whole training recipe (Training/README.md): data, vision, LM, Flamingo stage, export and
## Python-side eval into $(TRAIN_OUT); then `make install-model` ships it: the F16 export as
## Models/shapes-v1-f16 and its int8 copy (`flamingo quantize`, the default model) as Models/shapes-v1.
train: reference-env
	$(PYTHON_REF) Training/train.py --seed 0 --out $(TRAIN_OUT)

## The shipped model's in-domain statistics (docs/MODEL.md, "In-domain score"): 401 held-out clips of
## the training renderer (seeds 1000-1400), then flamingo calibrate on the F16 export; install-model
## copies them into the int8 default.
CALIBRATION_CLIPS := $(BENCH_DIR)/calibration-clips
calibrate-model: build reference-env
	@mkdir -p $(CALIBRATION_CLIPS)
	@for s in $$(seq 1000 1400); do [ -n "$$(ls $(CALIBRATION_CLIPS)/t$$s.* 2>/dev/null)" ] || \
	  /usr/bin/python3 Training/render_train.py --seed $$s --out $(CALIBRATION_CLIPS)/t$$s > /dev/null; done
	$(RELEASE_BIN) calibrate $(CALIBRATION_CLIPS) --model Models/shapes-v1-f16

install-model: build
	mkdir -p Models/shapes-v1-f16
	cp $(TRAIN_OUT)/model/config.json $(TRAIN_OUT)/model/tokenizer.json $(TRAIN_OUT)/model/model.safetensors Models/shapes-v1-f16/
	rm -rf Models/shapes-v1
	$(RELEASE_BIN) quantize Models/shapes-v1-f16 --out Models/shapes-v1

## 60 s 1920x1080 30 fps test videos (H.264 -g 30 with x264's scene cuts, the same with exactly one
## keyframe per second, H.264 -bf 3 -g 250) and a 720p VP9 one.
bench-videos:
	@mkdir -p $(BENCH_DIR)
	@[ -f $(BENCH_DIR)/h264-1080p-g30.mp4 ] || ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1920x1080:rate=30 -t 60 \
	  -vf noise=alls=12:allf=t+u -c:v libx264 -preset veryfast -b:v 6M -maxrate 6M -bufsize 12M -g 30 $(BENCH_DIR)/h264-1080p-g30.mp4
	@[ -f $(BENCH_DIR)/h264-1080p-g30-strict.mp4 ] || ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1920x1080:rate=30 -t 60 \
	  -vf noise=alls=12:allf=t+u -c:v libx264 -preset veryfast -b:v 6M -maxrate 6M -bufsize 12M -g 30 -sc_threshold 0 $(BENCH_DIR)/h264-1080p-g30-strict.mp4
	@[ -f $(BENCH_DIR)/h264-1080p-bf3-g250.mp4 ] || ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1920x1080:rate=30 -t 60 \
	  -vf noise=alls=12:allf=t+u -c:v libx264 -preset veryfast -b:v 6M -maxrate 6M -bufsize 12M -bf 3 -g 250 $(BENCH_DIR)/h264-1080p-bf3-g250.mp4
	@[ -f $(BENCH_DIR)/vp9-720p.webm ] || ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -t 60 \
	  -vf noise=alls=12:allf=t+u -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 -b:v 2M -g 120 $(BENCH_DIR)/vp9-720p.webm

## Our sampler against `ffmpeg -threads 2 -vf fps=1,scale=224:224` on those videos (release build).
bench-frames: build bench-videos
	$(RELEASE_BIN) bench frames --runs 5 $(BENCH_DIR)/h264-1080p-g30.mp4 $(BENCH_DIR)/h264-1080p-g30-strict.mp4 \
	  $(BENCH_DIR)/h264-1080p-bf3-g250.mp4 $(BENCH_DIR)/vp9-720p.webm

## Debian's python3-torch plus pinned PyPI packages (--no-deps) in .venv-reference: only for
## regenerating reference fixtures and for the PyTorch peer of `bench-engine`. Tests do not need it.
reference-env:
	bash Tests/Fixtures/setup_reference_env.sh

## Regenerate Tests/Fixtures/reference/* from OpenFlamingo's own classes (deterministic).
reference-fixtures: reference-env
	.venv-reference/bin/python Tests/Fixtures/make_reference.py

## The engine against PyTorch on the same random weights: ViT-B/16 over 8 frames at 224, and
## 32 tokens from a GPT-2-small-sized MosaicGPT after a 64-token prompt (release build).
bench-engine: build reference-env
	$(RELEASE_BIN) bench engine --runs 5

## Seconds per 8-frame, 20-token caption at OpenFlamingo-3B size (random weights; writes 15 GB under
## .bench/of3b and needs about 11 GB of memory), ours (f32 and f16 at rest) against PyTorch fp32.
bench-caption: build reference-env
	$(RELEASE_BIN) bench caption --runs 1

## Every benchmark above, end to end, in minutes (CI runs it after the tests): bench frames on two
## 5 s clips, bench engine with one run, bench caption at toy widths, bench decode on the shipped model and
## on bench engine's 4-bit decoder. Checks they run; times mean little.
## The cluster queue with no model work (docs/CLUSTER.md): claim throughput of 8 idle workers against
## the naive claim, and recovery after a worker is killed, on a throw-away PostgreSQL server.
bench-queue: build
	bash Tests/Benchmarks/with_postgres.sh $(RELEASE_BIN) bench queue --workers 8 --jobs 5000 --lease-seconds 5

bench-smoke: build reference-env
	@mkdir -p $(BENCH_DIR)
	@[ -f $(BENCH_DIR)/smoke-h264.mp4 ] || ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=640x360:rate=30 -t 5 \
	  -c:v libx264 -preset veryfast -g 30 $(BENCH_DIR)/smoke-h264.mp4
	@[ -f $(BENCH_DIR)/smoke-vp9.webm ] || ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=640x360:rate=30 -t 5 \
	  -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 60 $(BENCH_DIR)/smoke-vp9.webm
	$(RELEASE_BIN) bench frames --runs 1 $(BENCH_DIR)/smoke-h264.mp4 $(BENCH_DIR)/smoke-vp9.webm
	$(RELEASE_BIN) bench engine --runs 1
	$(RELEASE_BIN) bench caption --runs 1 --smoke
	$(RELEASE_BIN) bench decode --runs 1 --prompt 16 --tokens 8
	$(RELEASE_BIN) bench decode --runs 1 --model $(BENCH_DIR)/engine/lm-q4
	$(RELEASE_BIN) bench domain --runs 2
	$(RELEASE_BIN) bench tokenizer --runs 1 --kib 64
	bash Tests/Benchmarks/with_postgres.sh $(RELEASE_BIN) bench queue --jobs 200 --lease-seconds 1

## libFuzzer over the parsers of untrusted input (docs/FUZZING.md): reader, torch.save, safetensors,
## tokenizer.json, pipeline YAML; FUZZ_SECONDS each (FUZZ_SEED fixes libFuzzer's seed), the committed
## seed corpora copied into .build-fuzz/corpus and grown there, findings in .build-fuzz/findings.
FUZZ_SECONDS ?= 60
FUZZ_SEED    ?= 0
FUZZ_TARGETS := reader torch safetensors tokenizer pipeline
fuzz: deps
	FLAMINGO_FUZZ=1 $(SWIFT) build --product flamingo-fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table
	@mkdir -p .build-fuzz/findings
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$t && cp -n Tests/Fuzz/corpus/$$t/* .build-fuzz/corpus/$$t/; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  FLAMINGO_FUZZ_TARGET=$$t .build-fuzz/debug/flamingo-fuzz .build-fuzz/corpus/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -seed=$(FUZZ_SEED) -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=.build-fuzz/findings/$$t- \
	    2>&1 | grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)" \
	    || true; \
	done
	@if ls .build-fuzz/findings/* >/dev/null 2>&1; then echo "fuzz: findings in .build-fuzz/findings:"; ls .build-fuzz/findings; exit 1; fi

clean:
	rm -rf .build .demo-frames
