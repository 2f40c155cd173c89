//! Vocabulary and phrases. Index 0 is French, 1 English.

mod features;
mod fields;
mod names;
mod phrases;
mod topics;

pub(crate) use features::*;
pub(crate) use fields::*;
pub(crate) use names::*;
pub(crate) use phrases::*;
pub(crate) use topics::*;

use mailgate::model::Language;

/// The index of a language in the vocabulary's pairs.
pub(crate) fn li(lang: Language) -> usize {
    match lang {
        Language::Fr => 0,
        Language::En => 1,
    }
}
