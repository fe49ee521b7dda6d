//! A Keras-style `model.summary()`: each layer, its output shape and parameter count.

use std::fmt;

use crate::config::MlpConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSummary {
    pub name: String,
    pub kind: String,
    pub output: usize,
    pub params: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    pub title: String,
    pub layers: Vec<LayerSummary>,
}

impl ModelSummary {
    pub fn new(title: impl Into<String>, config: &MlpConfig) -> Self {
        let mut layers = Vec::new();
        let widths = config.widths();
        let last = widths.len() - 2;
        for (i, w) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (w[0], w[1]);
            let is_output = i == last;
            layers.push(LayerSummary {
                name: if is_output {
                    "output".into()
                } else {
                    format!("hidden.{i}")
                },
                kind: format!(
                    "Linear {fan_in}->{fan_out}, w {}, b {}",
                    config.weight_init.label(),
                    config.bias_init.label()
                ),
                output: fan_out,
                params: fan_in * fan_out + fan_out,
            });
            if !is_output {
                layers.push(LayerSummary {
                    name: format!("activation.{i}"),
                    kind: config.activation.name().into(),
                    output: fan_out,
                    params: 0,
                });
                if config.dropout > 0.0 {
                    layers.push(LayerSummary {
                        name: format!("dropout.{i}"),
                        kind: format!("Dropout p={}", config.dropout),
                        output: fan_out,
                        params: 0,
                    });
                }
            }
        }
        Self {
            title: title.into(),
            layers,
        }
    }

    pub fn total_params(&self) -> usize {
        self.layers.iter().map(|l| l.params).sum()
    }
}

/// `1195018` -> `1,195,018`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_w = self
            .layers
            .iter()
            .map(|l| l.name.len() + l.kind.len() + 3)
            .max()
            .unwrap_or(0)
            .max(12);
        let rule = "-".repeat(name_w + 32);
        writeln!(f, "Model: \"{}\"", self.title)?;
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "{:<name_w$}  {:<16}  {:>12}",
            "Layer (type)", "Output Shape", "Param #"
        )?;
        writeln!(f, "{}", "=".repeat(name_w + 32))?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<name_w$}  {:<16}  {:>12}",
                format!("{} ({})", l.name, l.kind),
                format!("(None, {})", l.output),
                thousands(l.params)
            )?;
        }
        writeln!(f, "{}", "=".repeat(name_w + 32))?;
        writeln!(f, "Total params: {}", thousands(self.total_params()))?;
        writeln!(f, "Trainable params: {}", thousands(self.total_params()))?;
        write!(f, "Non-trainable params: 0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7850), "7,850");
        assert_eq!(thousands(1_195_018), "1,195,018");
    }
}
