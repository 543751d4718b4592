//! What every text classifier here shares around its recurrent part: the word embedding,
//! the mask of the padding, and the head that reads the mean hidden state over a
//! sentence's words. The searched cell and the LSTM and GRU baselines differ only in the
//! recurrence, so their comparison is one of cells.
//!
//! # Shapes
//! Input `[batch, 1, 1, max_words]` word ids (`nas_data::text`: 0 pads after the last
//! word), cut to the batch's longest sentence; embeddings `[batch, words, hidden]`; output
//! `[batch, classes]` logits.

use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use nas_core::Rng;
use nas_core::rng::derive_seed;
use nas_nn::init::SeededInit;

/// The embedding's weights are drawn from `±EMBEDDING_RANGE` (ENAS's and DARTS's
/// encoders use 0.1), not from the `1/sqrt(fan_in)` rule, which for thousands of words
/// would start every word near zero.
pub const EMBEDDING_RANGE: f64 = 0.1;

/// Embedding and classifier of a text network.
#[derive(Module, Debug)]
pub struct TextFrame {
    pub embedding: Embedding,
    pub classifier: Linear,
}

/// A batch of sentences, embedded: `[batch, words, hidden]` and the mask of real words,
/// `[batch, words]`, 1 for a word and 0 for padding.
#[derive(Debug)]
pub struct Embedded {
    pub words: Tensor<3>,
    pub mask: Tensor<2>,
}

impl TextFrame {
    /// A frame for `vocabulary` word ids, `hidden` dimensions and `classes` outputs, all
    /// zero: the network's [`nas_nn::init::SeededInit`] draws the classifier, then
    /// [`draw_embedding`](Self::draw_embedding) the embedding.
    pub fn new(vocabulary: usize, hidden: usize, classes: usize, device: &Device) -> Self {
        TextFrame {
            embedding: EmbeddingConfig::new(vocabulary, hidden)
                .with_initializer(Initializer::Zeros)
                .init(device),
            classifier: LinearConfig::new(hidden, classes)
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    /// Draws the embedding uniformly from `±EMBEDDING_RANGE` with `seed`.
    pub fn draw_embedding(&mut self, seed: u64) {
        let [vocabulary, hidden] = self.embedding.weight.dims();
        let device = self.embedding.weight.device();
        let mut rng = Rng::new(seed);
        let values: Vec<f32> = (0..vocabulary * hidden)
            .map(|_| rng.uniform_in(-EMBEDDING_RANGE, EMBEDDING_RANGE) as f32)
            .collect();
        self.embedding.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(values, [vocabulary, hidden]),
            &device,
        ));
    }

    /// Embeds the word ids of `x`, cut to the longest sentence of the batch (at least one
    /// position, so a batch of empty sentences still has a state to read).
    pub fn embed(&self, x: Tensor<4>) -> Embedded {
        let [batch, _, _, max_words] = x.dims();
        let ids: Tensor<2> = x.reshape([batch, max_words]);
        let mask = ids.clone().greater_elem(0.0).float();
        let longest = mask.clone().sum_dim(1).max().into_scalar::<f32>() as usize;
        let words = longest.clamp(1, max_words);
        let ids = ids.narrow(1, 0, words);
        Embedded {
            words: self.embedding.forward(ids.int()),
            mask: mask.narrow(1, 0, words),
        }
    }

    /// The logits from the hidden states `[batch, words, hidden]`: the classifier reads
    /// their mean over each sentence's words (a sentence without words reads zeros, so it
    /// still gets the classifier's bias as its prediction).
    pub fn classify(&self, states: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
        let [batch, _, hidden] = states.dims();
        let counts = mask.clone().sum_dim(1).clamp_min(1.0);
        let summed: Tensor<2> = (states * mask.unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([batch, hidden]);
        self.classifier.forward(summed / counts)
    }

    pub fn num_params(&self) -> usize {
        self.embedding.num_params() + self.classifier.num_params()
    }
}

/// Draws a text network's weights from `seed` alone: every matrix by [`SeededInit`], then
/// the embedding of its `frame` ([`TextFrame::draw_embedding`]).
pub fn seeded<N: Module>(net: N, seed: u64, frame: fn(&mut N) -> &mut TextFrame) -> N {
    let mut net = net.map(&mut SeededInit {
        rng: Rng::new(seed),
    });
    frame(&mut net).draw_embedding(derive_seed(seed, 1));
    net
}
