//! Reply fixtures: fixtures/replies/NNN-client-language.eml, each with the
//! comment text expected from it in NNN-client-language.txt.
