//! Joint architecture and hyperparameter search.
//!
//! An experiment config may list `[[hyperparameters]]`: dotted paths inside the
//! evaluator's config (`learning_rate`, `optimizer`), each with a domain. They become
//! ordinary decisions after the space's ([`JointSpace`]), so every strategy searches them
//! without knowing they exist: strategies only see decisions. The evaluator is built
//! against the inner space (evaluators downcast it and look its network up by name), and
//! [`JointEvaluator`] builds it again with each trial's values set at those paths.
//!
//! No plugin is named here: a path is checked by deserializing the evaluator's config
//! through the registry and building it, before the search starts.

mod evaluator;
mod hyper;
mod path;
mod space;

pub use evaluator::JointEvaluator;
pub use hyper::{HyperParameter, Hyperparameters};
pub use space::JointSpace;
