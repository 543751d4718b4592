//! The hand-designed baselines of the text task: burn's own LSTM and GRU in the same
//! [`TextFrame`] as the searched cell (same embedding, hidden size, head and training),
//! so a comparison measures the recurrence alone. No space searches them; the benchmarks
//! train them beside the found cell.
//!
//! Their weights are drawn by [`nas_nn::init::SeededInit`] (uniform `±1/sqrt(hidden)`,
//! PyTorch's rule for its LSTM and GRU), biases zero.

use super::text_frame::{TextFrame, seeded};
use burn::module::Module;
use burn::nn::Initializer;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::lstm::{Lstm, LstmConfig};
use burn::tensor::{Device, Tensor};

/// A recurrent layer of burn's that reads a sentence's embeddings, `[batch, words,
/// hidden]`, into hidden states of the same shape.
pub trait Recurrence: Module + burn::module::ModuleDisplay + 'static {
    /// A layer of input and hidden size `hidden`, its weights zero (drawn afterwards).
    fn zeros(hidden: usize, device: &Device) -> Self;
    fn states(&self, words: Tensor<3>) -> Tensor<3>;
}

impl Recurrence for Lstm {
    fn zeros(hidden: usize, device: &Device) -> Self {
        LstmConfig::new(hidden, hidden, true)
            .with_initializer(Initializer::Zeros)
            .init(device)
    }
    fn states(&self, words: Tensor<3>) -> Tensor<3> {
        self.forward(words, None).0
    }
}

impl Recurrence for Gru {
    fn zeros(hidden: usize, device: &Device) -> Self {
        GruConfig::new(hidden, hidden, true)
            .with_initializer(Initializer::Zeros)
            .init(device)
    }
    fn states(&self, words: Tensor<3>) -> Tensor<3> {
        self.forward(words, None)
    }
}

/// A text classifier around one of burn's recurrent layers.
#[derive(Module, Debug)]
pub struct GatedNet<R: Recurrence> {
    pub text: TextFrame,
    pub recurrence: R,
}

/// The LSTM baseline.
pub type LstmNet = GatedNet<Lstm>;
/// The GRU baseline.
pub type GruNet = GatedNet<Gru>;

impl<R: Recurrence> GatedNet<R> {
    /// A baseline of `hidden` dimensions for `vocabulary` word ids and `classes` outputs
    /// on `device`, its weights drawn from `seed` alone.
    pub fn new(
        hidden: usize,
        vocabulary: usize,
        classes: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
        let net = GatedNet {
            text: TextFrame::new(vocabulary, hidden, classes, device),
            recurrence: R::zeros(hidden, device),
        };
        seeded(net, seed, |n| &mut n.text)
    }

    pub fn trainable_params(&self) -> usize {
        self.num_params()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let embedded = self.text.embed(x);
        let states = self.recurrence.states(embedded.words);
        self.text.classify(states, embedded.mask)
    }
}
