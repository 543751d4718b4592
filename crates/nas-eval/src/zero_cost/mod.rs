//! Zero-cost proxies as an evaluator: score an architecture from its untrained network in
//! one forward and backward pass, instead of training it (Abdelfattah et al. 2021).
//!
//! A proxy is only as good as its rank correlation with trained accuracy:
//! `cargo xtask bench zero-cost` measures that on NAS-Bench-201.

//! The proxies themselves are in [`nas_nn::proxies`], monomorphized for each network by
//! the space that registers it; this evaluator works on any such space.

use crate::train::nas_space_network;
use burn::tensor::FloatDType;
use nas_core::evaluator::SIMULATED_SECONDS;
use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::{
    EvalError, Evaluator, Goal, MetricRole, MetricSpec, Metrics, Reporter, Rng, SearchSpace, Trial,
};
use nas_data::{DataConfig, Splits};
use nas_nn::memory::{check_memory, memory_limit, scoring_memory};
use nas_nn::{NetSpec, ProxyPass, SpaceNetwork, Task, batch};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Which proxy scores the architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proxy {
    /// No data: an all-ones input to the network without batch norm.
    Synflow,
    GradNorm,
    Snip,
    JacobCov,
    /// Parameter count: the baseline a proxy has to beat.
    Params,
    /// FLOPs of one forward pass: the other structural baseline.
    Flops,
}

impl Proxy {
    pub const ALL: [Proxy; 6] = [
        Proxy::Synflow,
        Proxy::GradNorm,
        Proxy::Snip,
        Proxy::JacobCov,
        Proxy::Params,
        Proxy::Flops,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Proxy::Synflow => "synflow",
            Proxy::GradNorm => "grad_norm",
            Proxy::Snip => "snip",
            Proxy::JacobCov => "jacob_cov",
            Proxy::Params => "params",
            Proxy::Flops => "flops",
        }
    }

    /// Whether the proxy looks at images (the others need only the input shape).
    pub fn needs_data(self) -> bool {
        matches!(self, Proxy::GradNorm | Proxy::Snip | Proxy::JacobCov)
    }

    /// Whether the proxy computes in `f64` on the device, which some wgpu adapters lack.
    pub fn needs_f64(self) -> bool {
        F64_PROXIES.contains(&self)
    }
}

/// The proxies that compute in double precision on the device: synflow runs its whole
/// network in `f64` (its product over the depth passes `f32`'s range), the others sum
/// their gradients in `f64`.
pub const F64_PROXIES: [Proxy; 4] = [
    Proxy::Synflow,
    Proxy::GradNorm,
    Proxy::Snip,
    Proxy::JacobCov,
];

/// Config of the `zero-cost` evaluator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZeroCostConfig {
    pub proxy: Proxy,
    /// A registered backend (`flex`, `ndarray`...).
    pub backend: String,
    /// The network's width as its space reads it (NB201: channels of the first stage,
    /// `C`; the benchmark's network has 16). Spaces whose genotype sets every width
    /// ignore it.
    pub channels: usize,
    /// The network's depth as its space reads it (NB201: cells per stage, `N`; the
    /// benchmark's network has 5).
    pub cells_per_stage: usize,
    /// Input `[channels, height, width]` and classes of the data-free proxies (synflow,
    /// params, FLOPs); CIFAR-10's by default. The data-based proxies take the data's.
    pub input: [usize; 3],
    pub classes: usize,
    /// Images in the one minibatch the data-based proxies look at.
    pub batch_size: usize,
    /// The data of the data-based proxies (read only for them).
    pub data: DataConfig,
}

impl Default for ZeroCostConfig {
    fn default() -> Self {
        // NAS-Bench-201's own network: C = 16, N = 5, CIFAR-10's images and classes.
        ZeroCostConfig {
            proxy: Proxy::Synflow,
            backend: "flex".into(),
            channels: 16,
            cells_per_stage: 5,
            input: [3, 32, 32],
            classes: 10,
            batch_size: 64,
            data: DataConfig::default(),
        }
    }
}

impl EvaluatorConfig for ZeroCostConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &nas_data::TRAINING_KNOBS
    }

    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        let field = |f: &str, why: &str| Err(ConfigError::field("zero-cost", f, why));
        let network = nas_space_network(space.as_ref())?;
        if self.channels == 0 || self.cells_per_stage == 0 {
            return field(
                "channels",
                "channels and cells_per_stage must be at least 1",
            );
        }
        if self.input.contains(&0) || self.classes == 0 {
            return field("input", "input dimensions and classes must be at least 1");
        }
        if self.batch_size < 2 {
            return field(
                "batch_size",
                "must be at least 2 (jacob_cov correlates images)",
            );
        }
        let device = nas_nn::device(&self.backend).map_err(|e| ConfigError(e.to_string()))?;
        if self.proxy.needs_f64() && !device.supports_dtype(FloatDType::F64) {
            return field(
                "backend",
                &format!(
                    "`{}` cannot compute in f64 on this device, and {} does ({} all sum or run in double precision; params and flops need no device); choose the backend flex or ndarray",
                    self.backend,
                    self.proxy.name(),
                    F64_PROXIES.map(Proxy::name).join(", ")
                ),
            );
        }
        let splits = if self.proxy.needs_data() {
            Some(Arc::new(
                self.data.load().map_err(|e| ConfigError(e.to_string()))?,
            ))
        } else {
            None
        };
        let evaluator = ZeroCostEvaluator {
            space: Arc::clone(space),
            network,
            config: self.clone(),
            splits,
        };
        evaluator.check_fits()?;
        Ok(Arc::new(evaluator))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    ZeroCostConfig,
    "zero-cost",
    "Scores the untrained network with a zero-cost proxy (synflow, grad_norm, snip, jacob_cov, params, flops)."
);

/// Scores trials' networks with one proxy.
pub struct ZeroCostEvaluator {
    /// The space whose genotypes the trials carry.
    pub space: Arc<dyn SearchSpace>,
    /// The network the space registers.
    pub network: &'static dyn SpaceNetwork,
    pub config: ZeroCostConfig,
    /// Loaded for the data-based proxies only.
    pub splits: Option<Arc<Splits>>,
}

impl std::fmt::Debug for ZeroCostEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZeroCostEvaluator")
            .field("space", &self.space.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ZeroCostEvaluator {
    fn spec(&self) -> NetSpec {
        NetSpec {
            task: match &self.splits {
                Some(s) => Task::of(s),
                None => Task::images(self.config.input, self.config.classes),
            },
            width: self.config.channels,
            depth: self.config.cells_per_stage,
        }
    }
}

impl ZeroCostEvaluator {
    /// Refuses an input the space's network cannot take (`input` for the data-free
    /// proxies, the data's images for the others) and (for a space with a largest
    /// network) a network too large for this machine's memory, before any trial: either
    /// would fail every trial, by a panic inside burn or an aborted allocation.
    ///
    /// # Errors
    /// The field or data set at fault, and why.
    fn check_fits(&self) -> Result<(), ConfigError> {
        let spec = self.spec();
        let input = spec.task.input;
        let source = match &self.splits {
            Some(_) => format!("data `{}`", self.config.data.source()),
            None => "field `input`".to_string(),
        };
        self.network
            .check_task(&spec.task)
            .map_err(|why| ConfigError(format!("zero-cost: {source} {input:?}: {why}")))?;
        let (Some(largest), Some((batch, bytes))) = (
            self.network.largest(self.space.as_ref()),
            self.scoring_batch(),
        ) else {
            return Ok(());
        };
        let counts = self
            .network
            .counts(self.space.as_ref(), &largest, &spec)
            .map_err(|e| ConfigError(e.to_string()))?;
        let proxy = self.config.proxy;
        check_memory(
            &format!(
                "zero-cost: {} on the largest {} network (channels {}, cells_per_stage {}, input {input:?}, batch {batch})",
                proxy.name(),
                self.space.name(),
                spec.width,
                spec.depth,
            ),
            scoring_memory(counts, input, batch, bytes, proxy == Proxy::JacobCov),
            &memory_limit(),
            "the fields `channels`, `cells_per_stage`, `input` or `batch_size`",
        )
        .map_err(ConfigError)
    }

    /// Images scored at once and bytes per value of the proxy's pass; `None` for the
    /// structural proxies, which build no network.
    fn scoring_batch(&self) -> Option<(usize, f64)> {
        match (self.config.proxy, &self.splits) {
            (Proxy::Params | Proxy::Flops, _) => None,
            // synflow runs its network in f64 on one all-ones image.
            (Proxy::Synflow, _) => Some((1, 8.0)),
            (_, Some(s)) => Some((self.config.batch_size.min(s.train.len()), 4.0)),
            (_, None) => Some((self.config.batch_size, 4.0)),
        }
    }
}

impl Evaluator for ZeroCostEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        use Goal::*;
        use MetricRole::*;
        vec![
            MetricSpec::new(
                "score",
                Maximize,
                Objective,
                "the proxy's score of the untrained network (larger: predicted better)",
            ),
            MetricSpec::new("params_m", Minimize, Cost, "trainable parameters, millions"),
            MetricSpec::new(
                "flops_m",
                Minimize,
                Cost,
                "FLOPs of one forward pass, millions",
            ),
            MetricSpec::new(
                SIMULATED_SECONDS,
                Minimize,
                Cost,
                "wall-clock seconds of scoring (real, not modelled)",
            ),
        ]
    }

    fn evaluate(&self, trial: &Trial, _reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let started = Instant::now();
        let (space, g) = (self.space.as_ref(), &trial.genotype);
        let failed = |e: nas_core::SpaceError| EvalError::Failed(e.to_string());
        let spec = self.spec();
        let cost = self.network.cost(space, g, &spec).map_err(failed)?;
        let device =
            nas_nn::device(&self.config.backend).map_err(|e| EvalError::Fatal(e.to_string()))?;
        let proxy = self.config.proxy;
        if let Some((batch, bytes)) = self.scoring_batch() {
            // The genotype may set the size (chain CNNs): checked per trial too.
            check_memory(
                &format!("scoring {} (batch {batch})", space.render(g)),
                scoring_memory(
                    self.network.counts(space, g, &spec).map_err(failed)?,
                    spec.task.input,
                    batch,
                    bytes,
                    proxy == Proxy::JacobCov,
                ),
                &memory_limit(),
                "the space's widths, or `batch_size`",
            )
            .map_err(EvalError::Failed)?;
        }
        let pass = match (proxy, &self.splits) {
            (Proxy::Params, _) => None,
            (Proxy::Flops, _) => None,
            (Proxy::Synflow, _) => Some(ProxyPass::Synflow),
            (proxy, Some(splits)) => {
                // The minibatch is drawn from the training split with the trial's seed.
                let train = &splits.train;
                let mut indices: Vec<usize> = (0..train.len()).collect();
                Rng::new(trial.seed ^ 0x2e70_c057).shuffle(&mut indices);
                indices.truncate(self.config.batch_size.min(train.len()));
                let (images, labels) = batch(train, &indices, &device);
                Some(match proxy {
                    Proxy::JacobCov => ProxyPass::JacobCov { images },
                    Proxy::GradNorm => ProxyPass::GradNorm { images, labels },
                    _ => ProxyPass::Snip { images, labels },
                })
            }
            (proxy, None) => {
                return Err(EvalError::Fatal(format!(
                    "{} needs data, and none was loaded",
                    proxy.name()
                )));
            }
        };
        let score = match pass {
            None if proxy == Proxy::Params => cost.params as f64,
            None => cost.flops as f64,
            Some(pass) => self
                .network
                .score(space, g, &spec, pass, &device, trial.seed)
                .map_err(failed)?,
        };
        if !score.is_finite() {
            return Err(EvalError::Failed(format!(
                "{} gave a non-finite score ({score})",
                self.config.proxy.name()
            )));
        }
        let mut m = Metrics::with_capacity(4);
        m.set("score", score);
        m.set("params_m", cost.params as f64 / 1e6);
        m.set("flops_m", cost.flops_m());
        m.set(SIMULATED_SECONDS, started.elapsed().as_secs_f64());
        Ok(m)
    }
}
