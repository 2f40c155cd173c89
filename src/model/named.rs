//! Closed sets with a string form: what the database stores, the
//! configuration and the command line accept, and JSON shows.
//!
//! Each set is declared once with [`closed_set!`], which writes the enum,
//! its string forms (`as_str`, `Display`, `FromStr`, serde, `TryFrom<String>`
//! for rows read with sqlx) and the list of its values.

/// A closed set of values, each with one string form.
pub trait Named: Sized + Copy + 'static {
    /// Every value, in the order they are listed to people.
    const ALL: &'static [Self];
    /// What the set is called in error messages (`status`, `severity`).
    const WHAT: &'static str;

    fn as_str(self) -> &'static str;

    /// The value written exactly so (string forms are lower case).
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == text)
    }

    /// `a, b, c`: the accepted forms, for error messages.
    fn listed() -> String {
        Self::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A text that is not one of a closed set's forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not one of {expected}")]
pub struct NotInSet {
    pub value: String,
    /// The accepted forms, comma-separated.
    pub expected: String,
}

impl NotInSet {
    pub fn of<T: Named>(value: &str) -> Self {
        NotInSet {
            value: value.to_owned(),
            expected: T::listed(),
        }
    }
}

/// Parses a value of a closed set, or says which forms are accepted.
pub fn parse_named<T: Named>(text: &str) -> Result<T, NotInSet> {
    T::parse(text).ok_or_else(|| NotInSet::of::<T>(text))
}

/// Declares a closed set: `closed_set! { pub enum Status ("status") { Open = "open", … } }`.
#[macro_export]
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::model::Named for $name {
            const ALL: &'static [Self] = &[$( Self::$variant ),+];
            const WHAT: &'static str = $what;
            fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }
        }

        impl $name {
            /// The string form (stored, shown in JSON).
            pub fn as_str(self) -> &'static str {
                <Self as $crate::model::Named>::as_str(self)
            }

            /// The value written exactly so, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                <Self as $crate::model::Named>::parse(text)
            }
        }

        impl ::std::fmt::Display for $name {
            // `pad` honours width and alignment (`{:<8}` in tables).
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::model::NotInSet;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $crate::model::parse_named(text)
            }
        }

        /// Compared with its string form (`status == "open"`), as rows
        /// and JSON are.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::model::NotInSet;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                $crate::model::parse_named(&text)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                $crate::model::parse_named(&text).map_err(::serde::de::Error::custom)
            }
        }
    };
}
