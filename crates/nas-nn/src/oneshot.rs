//! What a one-shot method trains its supernet on, loaded and checked when the method is
//! built: the backend's device, the data (training and validation splits not empty), and
//! the supernet's shape for that data.

use crate::network::{NetSpec, Task};
use burn::tensor::Device;
use nas_core::registry::ConfigError;
use nas_data::{DataConfig, Splits};
use std::sync::Arc;

/// A one-shot method's device, data and supernet shape.
#[derive(Debug)]
pub struct OneShotData {
    pub device: Device,
    pub splits: Arc<Splits>,
    /// The data's task at the config's width and depth.
    pub spec: NetSpec,
}

impl OneShotData {
    /// Loads `data` for the plugin `plugin`, on the backend `backend`, for a supernet of
    /// `[width, depth]` whose input rule is `check_task`.
    ///
    /// # Errors
    /// A missing backend or data set, an empty training or validation split, data the
    /// supernet cannot take (naming the data set and why).
    pub fn load(
        plugin: &str,
        backend: &str,
        data: &DataConfig,
        [width, depth]: [usize; 2],
        check_task: &dyn Fn(&Task) -> Result<(), String>,
    ) -> Result<Self, ConfigError> {
        let device = crate::device(backend).map_err(|e| ConfigError(e.to_string()))?;
        let splits = data.load().map_err(|e| ConfigError(e.to_string()))?;
        if splits.valid.is_empty() || splits.train.is_empty() {
            return Err(ConfigError(format!(
                "{plugin}: field `data`: the train and validation splits must not be empty"
            )));
        }
        let spec = NetSpec {
            task: Task::of(&splits),
            width,
            depth,
        };
        check_task(&spec.task)
            .map_err(|e| ConfigError(format!("{plugin}: data `{}`: {e}", data.source())))?;
        Ok(OneShotData {
            device,
            splits: Arc::new(splits),
            spec,
        })
    }
}
