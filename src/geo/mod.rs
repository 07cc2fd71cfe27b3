//! Geography: postcode lookup from the shipped Code-Point Open data.

pub mod postcodes;

pub use postcodes::{Postcode, PostcodeIndex, PostcodePlace};
