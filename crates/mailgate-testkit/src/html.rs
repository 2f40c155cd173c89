//! The HTML of a body as each mail client writes it.

use crate::body::{Block, Doc};
use crate::charset::Charset;
use crate::people::Client;

impl Doc {
    pub(crate) fn html(&self, client: Client, charset: Charset) -> String {
        let (open, close) = match client {
            Client::Outlook => ("<p class=\"MsoNormal\">", "</p>"),
            Client::Gmail => ("<div dir=\"ltr\">", "</div>"),
            Client::Zimbra => ("<p>", "</p>"),
            Client::Thunderbird | Client::AppleMail => ("<div>", "</div>"),
        };
        let lines_html = |lines: &[String]| -> String {
            lines
                .iter()
                .map(|l| escape_html(l))
                .collect::<Vec<_>>()
                .join("<br>\n")
        };
        let mut h = format!(
            "<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset={}\">\n</head>\n<body>\n",
            charset.label(client)
        );
        for block in &self.0 {
            match block {
                Block::Para(lines) => {
                    h.push_str(open);
                    h.push_str(&lines_html(lines));
                    h.push_str(close);
                    h.push('\n');
                    if client == Client::Gmail {
                        h.push_str("<div><br></div>\n");
                    }
                }
                Block::Signature(lines) => {
                    h.push_str("<div class=\"signature\">-- <br>\n");
                    h.push_str(&lines_html(lines));
                    h.push_str("</div>\n");
                }
                Block::Footer(line) => {
                    h.push_str(&format!("<div>{}</div>\n", escape_html(line)));
                }
                Block::Quote {
                    intro,
                    lines,
                    prefixed: true,
                } => {
                    h.push_str(&format!(
                        "<div class=\"gmail_quote\"><div class=\"gmail_attr\">{}<br></div>\n<blockquote type=\"cite\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">\n{}\n</blockquote></div>\n",
                        escape_html(&intro.join(" ")),
                        lines_html(lines)
                    ));
                }
                Block::Quote { intro, lines, .. } => {
                    h.push_str("<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\n");
                    for line in intro {
                        match line.split_once(':') {
                            Some((label, rest)) if !line.starts_with('-') => {
                                h.push_str(&format!(
                                    "<b>{}:</b>{}<br>\n",
                                    escape_html(label),
                                    escape_html(rest)
                                ));
                            }
                            _ => h.push_str(&format!("{}<br>\n", escape_html(line))),
                        }
                    }
                    h.push_str("</div>\n<div>\n");
                    h.push_str(&lines_html(lines));
                    h.push_str("\n</div>\n");
                }
            }
        }
        h.push_str("</body></html>\n");
        h
    }
}

pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
