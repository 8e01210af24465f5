//! A small deterministic random number generator, so the same seed always gives the same capture.
//!
//! Every actor of the simulation owns its own generator, derived from the run's
//! seed and a stable label (the actor's role and device names). Adding a
//! scenario therefore never changes the random choices of the plant's actors.

/// SplitMix64: tiny, fast, good enough statistically for traffic simulation,
/// and identical on every platform.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

/// FNV-1a, used to turn labels into stream numbers.
fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Rng {
    /// A generator for one labelled stream of one run.
    pub fn new(seed: u64, label: &str) -> Rng {
        let mut r = Rng { state: seed ^ fnv1a(label).rotate_left(17) };
        // Warm up so that nearby seeds diverge immediately.
        r.next_u64();
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// The next 16 random bits.
    pub fn next_u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }

    /// A uniform value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for simulation and branch-free.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// `base` varied by up to ±`permille`/1000 of itself.
    pub fn jitter(&mut self, base: u64, permille: u64) -> u64 {
        let spread = base / 1000 * permille;
        if spread == 0 {
            return base;
        }
        base - spread + self.below(2 * spread + 1)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_label_same_stream() {
        let mut a = Rng::new(7, "hmi");
        let mut b = Rng::new(7, "hmi");
        let mut c = Rng::new(7, "plc");
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn bounds_hold() {
        let mut r = Rng::new(1, "x");
        for _ in 0..10_000 {
            assert!(r.below(7) < 7);
            let v = r.range(3, 5);
            assert!((3..=5).contains(&v));
            let j = r.jitter(1_000_000, 50);
            assert!((950_000..=1_050_000).contains(&j));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
