//! MM4 (3GPP TS 23.140 §8.4) codec.
