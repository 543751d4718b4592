//! LeNet-5 (LeCun et al. 1998), the hand-designed baseline a searched network has to beat:
//! two 5x5 convolutions (6 and 16 filters, ReLU, 2x2 average pooling) and three linear
//! layers (120, 84, classes). Both convolutions pad by 2 ("same"), so it fits any input of
//! at least 4x4 (the original's unpadded second convolution needs 28x28 or more); its cost
//! is counted with the conventions of [`crate::nb201_cost`] (biases included).

use nas_core::Cost;

/// Filters of the two convolutions, and widths of the two hidden linear layers.
pub const FILTERS: [usize; 2] = [6, 16];
pub const HIDDEN: [usize; 2] = [120, 84];
pub const KERNEL: usize = 5;

/// Height and width after the two 2x2 poolings.
pub fn pooled(input: [usize; 3]) -> (usize, usize) {
    (input[1] / 4, input[2] / 4)
}

/// Parameters and FLOPs of LeNet-5 for `input` (`[channels, height, width]`) and `classes`.
pub fn cost(input: [usize; 3], classes: usize) -> Cost {
    let mut c = Cost::default();
    let [channels, h, w] = input;
    c.conv(channels, FILTERS[0], KERNEL, h, w);
    c.params += FILTERS[0] as u64;
    c.conv(FILTERS[0], FILTERS[1], KERNEL, h / 2, w / 2);
    c.params += FILTERS[1] as u64;
    let (ph, pw) = pooled(input);
    c.linear(FILTERS[1] * ph * pw, HIDDEN[0]);
    c.linear(HIDDEN[0], HIDDEN[1]);
    c.linear(HIDDEN[1], classes);
    c
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_classic_shape_has_its_classic_size() {
        // 28x28 with same padding: 6*25+6 + 16*6*25+16 + 784*120+120 + 120*84+84 + 84*10+10.
        let c = super::cost([1, 28, 28], 10);
        assert_eq!(c.params, 156 + 2416 + 94_200 + 10_164 + 850);
    }
}
