//! The training loop, written once for every network: minibatch SGD (or Adam) with a
//! cosine learning-rate schedule, validation after each epoch (so a pruner can stop the
//! run), then validation and test accuracy and inference latency.
//!
//! Reproducible: weights and data order come from our own generator seeded with the
//! trial's seed, never from burn's process-wide one. Same seed, same CPU backend: the same
//! numbers.

use crate::network::{Classifier, Task};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use nas_core::registry::ConfigError;
use nas_core::{Control, EvalError, Metrics, Reporter, Rng};
use nas_data::{Images, Splits};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Which optimizer trains the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// SGD with momentum (Nesterov off), the NB201 recipe.
    Sgd,
    Adam,
}

/// How a network is trained, whatever the network: the fields every plugin that trains
/// shares (the `train` evaluator, a one-shot method's shared weights).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    /// Peak learning rate, annealed to zero on a cosine schedule.
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
}

impl Recipe {
    /// burn's optimizer for the recipe: SGD with momentum (no dampening, not Nesterov) or
    /// Adam, weight decay added to the gradient.
    pub fn optimizer(&self) -> ModuleOptimizer {
        let decay = Some(WeightDecayConfig {
            penalty: self.weight_decay as f32,
        });
        match self.optimizer {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(MomentumConfig {
                    momentum: self.momentum,
                    dampening: 0.0,
                    nesterov: false,
                }))
                .with_weight_decay(decay)
                .init(),
            OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
        }
    }

    /// # Errors
    /// The first field out of range, named as a field of `plugin`'s config.
    pub fn check_as(&self, plugin: &str) -> Result<(), ConfigError> {
        let field = |f: &str, why: &str| Err(ConfigError::field(plugin, f, why));
        if self.batch_size == 0 {
            return field("batch_size", "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return field("learning_rate", "must be a positive number");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return field("momentum", "must be in [0, 1)");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return field("weight_decay", "must be zero or positive");
        }
        Ok(())
    }
}

/// The fields every plugin that trains shares, checked in one place and named as fields
/// of `plugin`'s config: `epochs`, the recipe, the width and depth (`channels`,
/// `cells_per_stage`), the share of the training data (`data_fraction`).
///
/// # Errors
/// The first field out of range.
pub fn check_training(
    plugin: &str,
    epochs: u32,
    recipe: &Recipe,
    [width, depth]: [usize; 2],
    data_fraction: f64,
) -> Result<(), ConfigError> {
    let field = |f: &str, why: &str| Err(ConfigError::field(plugin, f, why));
    if epochs == 0 {
        return field("epochs", "must be at least 1");
    }
    recipe.check_as(plugin)?;
    if width == 0 || depth == 0 {
        return field(
            "channels",
            "channels and cells_per_stage must be at least 1",
        );
    }
    if !(data_fraction > 0.0 && data_fraction <= 1.0) {
        return field("data_fraction", "must be in (0, 1]");
    }
    Ok(())
}

/// One training run: the recipe, the data, how long, from which seed, on which device.
#[derive(Debug, Clone, Copy)]
pub struct FitJob<'a> {
    pub recipe: &'a Recipe,
    pub splits: &'a Splits,
    pub epochs: u32,
    /// Share of the training split trained on, in (0, 1].
    pub data_fraction: f64,
    pub seed: u64,
    pub device: &'a Device,
    /// Keep the trained weights as a burn record ([`FitOutcome::weights`]).
    pub keep_weights: bool,
}

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
    /// The trained network's weights and running statistics as burn's record bytes
    /// (`ModuleRecord::into_bytes`: load them with `try_load_record` into a network
    /// built for the same architecture), when the job asked to keep them.
    pub weights: Option<Vec<u8>>,
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
pub fn assess<N: Classifier>(model: &N, set: &Images, device: &Device) -> (f64, f64) {
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

/// Trains the network `build` makes (on the autodiff device it is given) for `task` and
/// measures it.
///
/// # Errors
/// [`EvalError::Failed`] when there is nothing to train or score (0 epochs, an empty
/// split, data of another shape than `task`'s: each would otherwise report metrics of an
/// untrained or unscored network, or panic inside burn) or when the loss stops being
/// finite; [`EvalError::Pruned`] when the reporter stops the run.
pub fn fit<N: Classifier>(
    build: impl FnOnce(&Device) -> N,
    task: Task,
    job: &FitJob<'_>,
    reporter: &mut dyn Reporter,
) -> Result<FitOutcome, EvalError> {
    let FitJob {
        recipe: config,
        splits,
        epochs,
        data_fraction,
        seed,
        device,
        keep_weights,
    } = *job;
    check_run(task, splits, epochs, data_fraction)?;
    let train_device = device.clone().autodiff();
    let mut model = build(&train_device);
    let params = model.trainable_params();
    let mut rng = Rng::new(seed ^ 0xda7a_0dde_5eed);
    // Dropout masks get their own stream, so networks without dropout (NB201) see exactly
    // the data order they saw before MLPs existed.
    let mut dropout_rng = Rng::new(seed ^ 0xd209_0075_eed5);
    let train = &splits.train;
    let mut subset: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut subset);
    subset.truncate(((train.len() as f64 * data_fraction).round() as usize).max(1));

    let mut optim = config.optimizer();
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
        report_epoch(reporter, epoch, m, started)?;
    }
    let train_seconds = started.elapsed().as_secs_f64();
    let trained = model.valid();
    let (valid_acc, valid_loss) = assess(&trained, &splits.valid, device);
    let (test_acc, _) = assess(&trained, &splits.test, device);
    let weights = keep_weights.then(|| record_bytes(&trained)).transpose()?;
    Ok(FitOutcome {
        valid_acc,
        valid_loss,
        test_acc,
        train_loss,
        params,
        latency_ms: latency_ms(&trained, &splits.test, device),
        train_seconds,
        weights,
    })
}

/// `trained`'s weights and running statistics as burn's record bytes.
fn record_bytes<N: Classifier>(trained: &N) -> Result<Vec<u8>, EvalError> {
    let record =
        trained.clone().into_record().into_bytes().map_err(|e| {
            EvalError::Failed(format!("the trained weights could not be written: {e}"))
        })?;
    Ok(record.to_vec())
}

/// Reports an epoch's metrics `m`; when the reporter stops the run, the pruned trial's
/// metrics add what it cost so far (training seconds since `started`, epochs), so a
/// budget of training time counts it.
fn report_epoch(
    reporter: &mut dyn Reporter,
    epoch: u32,
    mut m: Metrics,
    started: Instant,
) -> Result<(), EvalError> {
    if reporter.report(epoch, &m) == Control::Continue {
        return Ok(());
    }
    m.set(
        nas_core::evaluator::SIMULATED_SECONDS,
        started.elapsed().as_secs_f64(),
    );
    m.set("epochs", epoch as f64);
    Err(EvalError::Pruned {
        step: epoch,
        metrics: m,
    })
}

/// Refuses a run that cannot give a result: the config's `epochs` field is checked to be
/// at least 1, and a trial's fidelity (`nas eval --epochs 0`) is held to the same rule.
fn check_run(
    task: Task,
    splits: &Splits,
    epochs: u32,
    data_fraction: f64,
) -> Result<(), EvalError> {
    if epochs == 0 {
        return Err(EvalError::Failed(
            "0 epochs: a trial must train at least one epoch (as the field `epochs` must be at least 1)"
                .into(),
        ));
    }
    if !(data_fraction > 0.0 && data_fraction <= 1.0) {
        return Err(EvalError::Failed(format!(
            "data fraction {data_fraction} is not in (0, 1]"
        )));
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
    if task.input != [t.channels, t.height, t.width] {
        return Err(EvalError::Failed(format!(
            "the network is built for input {:?} but the images of `{}` are [{}, {}, {}]",
            task.input, splits.name, t.channels, t.height, t.width
        )));
    }
    Ok(())
}

/// Median time of a one-image forward pass, in milliseconds, over 11 runs after a warm-up.
fn latency_ms<N: Classifier>(model: &N, set: &Images, device: &Device) -> f64 {
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
