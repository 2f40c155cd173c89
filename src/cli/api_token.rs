//! `mailgate api-token NAME`: a new bearer token for the team API and the
//! configuration lines that accept it.

use crate::exit;
use crate::intake;

// The help of `api-token` is the doc comment of `Command::ApiToken`.
#[derive(clap::Args)]
pub(super) struct ApiTokenArgs {
    /// Who will use it (a tool, a person), recorded as `api:NAME`.
    name: String,
}

/// A new random token for the team API, and the configuration lines that
/// accept it (only its SHA-256 is stored).
pub(super) fn execute(args: &ApiTokenArgs) -> u8 {
    let name = &args.name;
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let token = format!("mg_{}", hex::encode(secret));
    let hash = intake::sha256_hex(token.as_bytes());
    println!("Token (give it to the tool; it is shown only once):\n\n  {token}\n");
    println!(
        "Add to the configuration:\n\n[[http.api_tokens]]\nname = {name:?}\nsha256 = \"{hash}\""
    );
    exit::OK
}
