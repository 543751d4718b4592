//! The training loop: minibatch SGD (or Adam) with a cosine learning-rate schedule.

use super::{OptimizerKind, TrainConfig};
use crate::data::{Images, Splits};
use crate::limits::check_arch_input;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use nas_core::{Control, EvalError, Metrics, Reporter, Rng};
use nas_space::nn::Network;
use nas_space::{Architecture, Nb201NetConfig};
use std::time::Instant;

/// What a training run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOutcome {
    pub valid_acc: f64,
    pub valid_loss: f64,
    pub test_acc: f64,
    pub train_loss: f64,
    pub params: usize,
    pub latency_ms: f64,
    pub train_seconds: f64,
}

/// Images `indices` of `set` as a `[batch, c, h, w]` tensor and their labels.
pub fn batch(set: &Images, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let mut pixels = Vec::with_capacity(indices.len() * set.image_size());
    let mut labels = Vec::with_capacity(indices.len());
    for &i in indices {
        pixels.extend_from_slice(set.image(i));
        labels.push(set.labels[i] as i64);
    }
    let shape = [indices.len(), set.channels, set.height, set.width];
    (
        Tensor::from_data(TensorData::new(pixels, shape), device),
        Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
    )
}

/// Accuracy (%) and mean cross-entropy of `model` on `set`.
fn assess(model: &Network, set: &Images, device: &Device) -> (f64, f64) {
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let all: Vec<usize> = (0..set.len()).collect();
    let (mut correct, mut loss_sum) = (0i64, 0f64);
    for chunk in all.chunks(256) {
        let (x, y) = batch(set, chunk, device);
        let logits = model.forward(x);
        let loss: f32 = loss_fn.forward(logits.clone(), y.clone()).into_scalar();
        loss_sum += loss as f64 * chunk.len() as f64;
        let predicted = logits.argmax(1).reshape([chunk.len()]);
        correct += predicted.equal(y).int().sum().into_scalar::<i64>();
    }
    let n = set.len().max(1) as f64;
    (100.0 * correct as f64 / n, loss_sum / n)
}

/// The learning rate at `step` of `total` on a cosine schedule from `peak` to zero.
pub fn cosine(peak: f64, step: usize, total: usize) -> f64 {
    peak * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total.max(1) as f64).cos())
}

/// Trains the network of `arch` and measures it.
///
/// # Errors
/// [`EvalError::Failed`] when there is nothing to train or score (0 epochs, an empty
/// split, an input the network cannot take: each would otherwise report metrics of an
/// untrained or unscored network, or panic inside burn) or when the loss stops being
/// finite; [`EvalError::Pruned`] when the reporter stops the run.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    arch: &Architecture,
    net: &Nb201NetConfig,
    config: &TrainConfig,
    splits: &Splits,
    epochs: u32,
    data_fraction: f64,
    seed: u64,
    device: &Device,
    reporter: &mut dyn Reporter,
) -> Result<FitOutcome, EvalError> {
    check_run(arch, net, splits, epochs)?;
    let train_device = device.clone().autodiff();
    let mut model = Network::new(arch, net, &train_device, seed);
    let params = model.trainable_params();
    let mut rng = Rng::new(seed ^ 0xda7a_0dde_5eed);
    // Dropout masks get their own stream, so networks without dropout (NB201) see exactly
    // the data order they saw before MLPs existed.
    let mut dropout_rng = Rng::new(seed ^ 0xd209_0075_eed5);
    let train = &splits.train;
    let mut subset: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut subset);
    subset.truncate(((train.len() as f64 * data_fraction).round() as usize).max(1));

    let mut optim = match config.optimizer {
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum(Some(MomentumConfig {
                momentum: config.momentum,
                dampening: 0.0,
                nesterov: false,
            }))
            .with_weight_decay(Some(WeightDecayConfig {
                penalty: config.weight_decay as f32,
            }))
            .init(),
        OptimizerKind::Adam => AdamConfig::new()
            .with_weight_decay(Some(WeightDecayConfig {
                penalty: config.weight_decay as f32,
            }))
            .init(),
    };
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let steps_per_epoch = subset.len().div_ceil(config.batch_size);
    let total_steps = steps_per_epoch * epochs as usize;
    let started = Instant::now();
    let mut step = 0usize;
    let mut train_loss = f64::NAN;
    for epoch in 1..=epochs {
        rng.shuffle(&mut subset);
        let mut loss_sum = 0f64;
        for chunk in subset.chunks(config.batch_size) {
            let (x, y) = batch(train, chunk, &train_device);
            let loss = loss_fn.forward(model.forward_train(x, &mut dropout_rng), y);
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(EvalError::Failed(format!(
                    "the loss diverged ({value}) at epoch {epoch}, step {step}"
                )));
            }
            loss_sum += value as f64 * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(
                cosine(config.learning_rate, step, total_steps),
                model,
                grads,
            );
            step += 1;
        }
        train_loss = loss_sum / subset.len() as f64;
        let (valid_acc, valid_loss) = assess(&model.valid(), &splits.valid, device);
        let mut m = Metrics::with_capacity(3);
        m.set("valid_acc", valid_acc);
        m.set("valid_loss", valid_loss);
        m.set("train_loss", train_loss);
        if reporter.report(epoch, &m) == Control::Stop {
            return Err(EvalError::Pruned {
                step: epoch,
                metrics: m,
            });
        }
    }
    let train_seconds = started.elapsed().as_secs_f64();
    let trained = model.valid();
    let (valid_acc, valid_loss) = assess(&trained, &splits.valid, device);
    let (test_acc, _) = assess(&trained, &splits.test, device);
    Ok(FitOutcome {
        valid_acc,
        valid_loss,
        test_acc,
        train_loss,
        params,
        latency_ms: latency_ms(&trained, &splits.test, device),
        train_seconds,
    })
}

/// Refuses a run that cannot give a result: the config's `epochs` field is checked to be
/// at least 1, and a trial's fidelity (`nas eval --epochs 0`) is held to the same rule.
fn check_run(
    arch: &Architecture,
    net: &Nb201NetConfig,
    splits: &Splits,
    epochs: u32,
) -> Result<(), EvalError> {
    if epochs == 0 {
        return Err(EvalError::Failed(
            "0 epochs: a trial must train at least one epoch (as the field `epochs` must be at least 1)"
                .into(),
        ));
    }
    for (name, set) in [
        ("training", &splits.train),
        ("validation", &splits.valid),
        ("test", &splits.test),
    ] {
        if set.is_empty() {
            return Err(EvalError::Failed(format!(
                "the {name} split of `{}` is empty",
                splits.name
            )));
        }
    }
    let t = &splits.train;
    if net.input != [t.channels, t.height, t.width] {
        return Err(EvalError::Failed(format!(
            "the network is built for input {:?} but the images of `{}` are [{}, {}, {}]",
            net.input, splits.name, t.channels, t.height, t.width
        )));
    }
    check_arch_input(arch, net.input).map_err(EvalError::Failed)
}

/// Median time of a one-image forward pass, in milliseconds, over 11 runs after a warm-up.
fn latency_ms(model: &Network, set: &Images, device: &Device) -> f64 {
    if set.is_empty() {
        return f64::NAN;
    }
    let (x, _) = batch(set, &[0], device);
    let _ = model.forward(x.clone()).into_data();
    let mut times: Vec<f64> = (0..11)
        .map(|_| {
            let t = Instant::now();
            let _ = model.forward(x.clone()).into_data();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
