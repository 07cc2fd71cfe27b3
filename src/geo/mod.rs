//! Geography: postcode lookup from the shipped Code-Point Open data.

pub mod areas;
pub mod locate;
pub mod places;
pub mod postcodes;

pub use postcodes::{Postcode, PostcodeIndex, PostcodePlace};
