//! Output vectors written once, in parallel, without zeroing them first.
//!
//! `vec![0.0; n]` zeroes the whole buffer on the calling thread before the parallel pass
//! overwrites it: for the 4 MiB activations of NB201's first stage that was 4 to 7 % of
//! a training step, with the other core idle. Here each task writes its chunk of the
//! uninitialized buffer through a [`Writer`], which counts what it wrote; the vector gets
//! its length only once every chunk is known to be full.
#![allow(unsafe_code)]

use crate::microkernel::Filled;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Appends values to one chunk of an output vector.
pub(crate) struct Writer<'a> {
    slots: &'a mut [MaybeUninit<f32>],
    written: usize,
}

impl Writer<'_> {
    /// Appends `values`.
    ///
    /// # Panics
    /// When they do not fit in the chunk.
    pub fn push_slice(&mut self, values: &[f32]) {
        self.push(values.iter().copied());
    }

    /// Appends every value of `values`.
    ///
    /// # Panics
    /// When they do not fit in the chunk.
    pub fn push(&mut self, values: impl ExactSizeIterator<Item = f32>) {
        let slots = &mut self.slots[self.written..];
        assert!(values.len() <= slots.len(), "output: chunk overflow");
        // Counted as written, not taken from `len()`: the length is only a promise of
        // a safe trait, and the count decides which slots are initialized.
        let mut n = 0;
        for (slot, v) in slots.iter_mut().zip(values) {
            slot.write(v);
            n += 1;
        }
        self.written += n;
    }

    /// The values written so far, to be changed in place.
    pub fn written_mut(&mut self) -> &mut [f32] {
        let written = &mut self.slots[..self.written];
        // SAFETY: `written` counts the slots written so far, from the first (`push` and
        // `fill_product` count them), and `MaybeUninit<f32>` has the layout of `f32`.
        unsafe { &mut *(written as *mut [MaybeUninit<f32>] as *mut [f32]) }
    }

    /// Hands the chunk's unwritten slots to the microkernel, which writes all of them;
    /// its proof counts only for those slots.
    pub fn fill_product(&mut self, write: impl FnOnce(&mut [MaybeUninit<f32>]) -> Filled) {
        let slots = &mut self.slots[self.written..];
        let filled = write(slots);
        self.written += filled.written_in(slots);
    }
}

/// A vector of `len` values whose chunks of `chunk` values (the last may be shorter)
/// are written in parallel by `fill(state, index, writer)`, `state` made by `init` once
/// per task as in rayon's `for_each_init`.
///
/// # Panics
/// When `fill` leaves a chunk short (or panics); the partly written buffer is then freed
/// without being read.
pub(crate) fn par_chunks_filled<T>(
    len: usize,
    chunk: usize,
    init: impl Fn() -> T + Sync + Send,
    fill: impl Fn(&mut T, usize, &mut Writer<'_>) + Sync + Send,
) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each_init(init, |state, (i, slots)| {
            let mut writer = Writer { slots, written: 0 };
            fill(state, i, &mut writer);
            assert_eq!(
                writer.written,
                writer.slots.len(),
                "output: chunk {i} left short"
            );
        });
    // SAFETY: the capacity is at least `len`, and every chunk of the first `len` slots
    // was asserted full, so each of them has been written.
    unsafe { out.set_len(len) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_land_in_order() {
        let v = par_chunks_filled(
            10,
            4,
            || (),
            |_, i, w| {
                let start = i * 4;
                w.push((start..(start + 4).min(10)).map(|x| x as f32));
            },
        );
        assert_eq!(v, (0..10).map(|x| x as f32).collect::<Vec<_>>());
    }

    #[test]
    fn written_values_can_be_changed_in_place() {
        let v = par_chunks_filled(
            6,
            3,
            || (),
            |_, i, w| {
                w.push_slice(&[1.0, 2.0]);
                w.written_mut()[1] = 10.0 * i as f32;
                w.push_slice(&[3.0]);
            },
        );
        assert_eq!(v, [1.0, 0.0, 3.0, 1.0, 10.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "left short")]
    fn a_short_chunk_is_refused() {
        par_chunks_filled(8, 4, || (), |_, _, w| w.push_slice(&[1.0; 3]));
    }
}
