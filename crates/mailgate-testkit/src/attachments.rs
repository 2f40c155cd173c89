//! Attachments: their kinds, names and sizes, bytes that look like the
//! kind, and their MIME part.

use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

use mailgate::model::Language;

use crate::charset::Charset;
use crate::encode::{base64_lines, encoded_words, percent_encode};
use crate::mime::Entity;
use crate::mix::Mix;
use crate::rng::{pick, weighted};

#[derive(Debug, Clone, Copy)]
pub(crate) enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Csv,
    Log,
    Xlsx,
    Zip,
}

#[derive(Debug, Clone)]
pub(crate) struct File {
    name: String,
    content_type: &'static str,
    data: Vec<u8>,
}

impl File {
    pub(crate) fn random(rng: &mut ChaCha8Rng, lang: Language, mix: &Mix) -> Self {
        let kind = weighted(
            rng,
            &[
                (FileKind::Png, 0.25),
                (FileKind::Pdf, 0.2),
                (FileKind::Log, 0.15),
                (FileKind::Csv, 0.12),
                (FileKind::Jpeg, 0.1),
                (FileKind::Xlsx, 0.1),
                (FileKind::Zip, 0.08),
            ],
        );
        let (lo, hi) = (
            (mix.min_attachment as f64).ln(),
            (mix.max_attachment as f64).ln(),
        );
        let size = (lo + rng.r#gen::<f64>() * (hi - lo))
            .exp()
            .round()
            .clamp(mix.min_attachment as f64, mix.max_attachment as f64)
            as usize;
        let fr = lang == Language::Fr;
        let stamp = format!(
            "2025-03-{:02} {} {:02}.{:02}.{:02}",
            rng.gen_range(1..28),
            if fr { "à" } else { "at" },
            rng.gen_range(8..19),
            rng.gen_range(0..60),
            rng.gen_range(0..60)
        );
        let (name, content_type) = match kind {
            FileKind::Pdf => (
                pick(
                    rng,
                    if fr {
                        &[
                            "facture-F2025-00312.pdf",
                            "rapport-erreur.pdf",
                            "Procédure d'export.pdf",
                        ]
                    } else {
                        &[
                            "invoice-F2025-00312.pdf",
                            "error-report.pdf",
                            "Export procedure.pdf",
                        ]
                    },
                )
                .to_string(),
                "application/pdf",
            ),
            FileKind::Png => (
                if rng.gen_bool(0.5) {
                    if fr {
                        format!("Capture d’écran {stamp}.png")
                    } else {
                        format!("Screenshot {stamp}.png")
                    }
                } else {
                    pick(rng, &["capture.png", "screenshot.png", "image001.png"]).to_string()
                },
                "image/png",
            ),
            FileKind::Jpeg => (
                format!("IMG_{:04}.jpg", rng.gen_range(1000..9999)),
                "image/jpeg",
            ),
            FileKind::Csv => (
                if fr {
                    "export-clients.csv"
                } else {
                    "customers-export.csv"
                }
                .to_owned(),
                "text/csv",
            ),
            FileKind::Log => (
                pick(
                    rng,
                    &["server.log", "sync-error.log", "gateway-2025-03-04.log"],
                )
                .to_string(),
                "text/plain",
            ),
            FileKind::Xlsx => (
                if fr {
                    "Relevé des écarts.xlsx"
                } else {
                    "stock-differences.xlsx"
                }
                .to_owned(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            FileKind::Zip => (
                if fr { "journaux.zip" } else { "logs.zip" }.to_owned(),
                "application/zip",
            ),
        };
        File {
            name,
            content_type,
            data: file_bytes(rng, kind, size, fr),
        }
    }
}

/// Bytes that look like the kind of file at a glance: its signature, then
/// random bytes (or lines of text), `size` bytes in all.
pub(crate) fn file_bytes(rng: &mut ChaCha8Rng, kind: FileKind, size: usize, fr: bool) -> Vec<u8> {
    let mut data = Vec::with_capacity(size + 200);
    let random_tail = |rng: &mut ChaCha8Rng, data: &mut Vec<u8>, trailer: &[u8]| {
        let start = data.len();
        let fill = size.saturating_sub(start + trailer.len());
        data.resize(start + fill, 0);
        rng.fill_bytes(&mut data[start..]);
        data.extend_from_slice(trailer);
    };
    match kind {
        FileKind::Pdf => {
            data.extend_from_slice(
                b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n3 0 obj\n<< /Length 0 /Filter /FlateDecode >>\nstream\n",
            );
            random_tail(rng, &mut data, b"\nendstream\nendobj\n%%EOF\n");
        }
        FileKind::Png => {
            data.extend_from_slice(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR");
            data.extend_from_slice(&(rng.gen_range(320u32..2560)).to_be_bytes());
            data.extend_from_slice(&(rng.gen_range(240u32..1440)).to_be_bytes());
            data.extend_from_slice(b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x01\x00\x00IDAT");
            random_tail(rng, &mut data, b"\x00\x00\x00\x00IEND\xaeB`\x82");
        }
        FileKind::Jpeg => {
            data.extend_from_slice(
                b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00",
            );
            random_tail(rng, &mut data, b"\xff\xd9");
        }
        FileKind::Xlsx | FileKind::Zip => {
            data.extend_from_slice(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00");
            random_tail(
                rng,
                &mut data,
                b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00",
            );
        }
        FileKind::Csv => {
            data.extend_from_slice(if fr {
                b"date;numero;client;montant_ht;tva;devise\r\n".as_slice()
            } else {
                b"date,invoice,customer,net_amount,vat,currency\r\n".as_slice()
            });
            let customers = [
                "Durand SARL",
                "Martin et Fils",
                "Petit Transports",
                "Garage Lefort",
                "Acme Retail",
                "Blue Harbor Ltd",
            ];
            while data.len() < size {
                let (net, cents) = (rng.gen_range(10..20000), rng.gen_range(0..100));
                let line = if fr {
                    format!(
                        "2025-03-{:02};F2025-{:05};{};{net},{cents:02};{},{:02};EUR\r\n",
                        rng.gen_range(1..29),
                        rng.gen_range(1..99999),
                        customers[rng.gen_range(0..customers.len())],
                        net / 5,
                        cents
                    )
                } else {
                    format!(
                        "2025-03-{:02},INV-{:05},{},{net}.{cents:02},{}.{:02},GBP\r\n",
                        rng.gen_range(1..29),
                        rng.gen_range(1..99999),
                        customers[rng.gen_range(0..customers.len())],
                        net / 5,
                        cents
                    )
                };
                data.extend_from_slice(line.as_bytes());
            }
            data.truncate(size);
        }
        FileKind::Log => {
            let messages = [
                "request completed",
                "upstream request timeout after 30000 ms",
                "retrying job export-invoices (attempt 2)",
                "connection reset by peer",
                "sync batch committed",
                "HTTP 500 on POST /api/v2/invoices/export",
                "token refreshed",
            ];
            let levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"];
            let modules = ["export", "sync", "auth", "gateway", "worker"];
            let mut seconds = rng.gen_range(0..86_400u32);
            while data.len() < size {
                seconds = (seconds + rng.gen_range(0..4)) % 86_400;
                let line = format!(
                    "2025-03-04T{:02}:{:02}:{:02}.{:03}Z {:5} [{}] {}-{}: {}\n",
                    seconds / 3600,
                    seconds / 60 % 60,
                    seconds % 60,
                    rng.gen_range(0..1000),
                    levels[rng.gen_range(0..levels.len())],
                    modules[rng.gen_range(0..modules.len())],
                    "worker",
                    rng.gen_range(1..9),
                    messages[rng.gen_range(0..messages.len())]
                );
                data.extend_from_slice(line.as_bytes());
            }
            data.truncate(size);
        }
    }
    data.truncate(size);
    data
}

pub(crate) fn file_entity(file: &File) -> Entity {
    let (type_param, disposition) = if file.name.is_ascii() {
        (
            format!("name=\"{}\"", file.name),
            format!("attachment; filename=\"{}\"", file.name),
        )
    } else {
        (
            format!(
                "name=\"{}\"",
                encoded_words(&file.name, Charset::Utf8, false)
            ),
            format!(
                "attachment; filename*=UTF-8''{}",
                percent_encode(&file.name)
            ),
        )
    };
    Entity {
        headers: vec![
            (
                "Content-Type".into(),
                format!("{}; {type_param}", file.content_type),
            ),
            ("Content-Disposition".into(), disposition),
            ("Content-Transfer-Encoding".into(), "base64".into()),
        ],
        body: base64_lines(&file.data),
    }
}
