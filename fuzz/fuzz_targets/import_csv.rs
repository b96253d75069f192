//! CSV import rows (`govseal licenses import FILE.csv`): the header checked
//! against the business license type, then each row turned into an issue
//! request and put through the checks issuance makes before it touches the
//! database (holder identifier, field values, dates).
#![no_main]

use std::sync::OnceLock;

use govseal::license::import::ImportHeader;
use govseal::license::types::{LicenseTypeDefinition, parse_date};
use libfuzzer_sys::fuzz_target;

const TYPE_CODE: &str = "11100000000013127D001";

fn definition() -> &'static LicenseTypeDefinition {
    static DEFINITION: OnceLock<LicenseTypeDefinition> = OnceLock::new();
    DEFINITION.get_or_init(|| {
        let f = |key: &str, ty: &str, required: bool| {
            serde_json::json!({"key": key, "label_zh": key, "label_en": key, "type": ty,
                               "required": required, "on_qr": true})
        };
        let mut kind = f("type", "enum", false);
        kind["values"] = serde_json::json!(["有限责任公司（自然人投资或控股）", "个体工商户"]);
        serde_json::from_value(serde_json::json!({
            "code": TYPE_CODE, "name_zh": "营业执照", "name_en": "Business Licence",
            "issuers": [], "validity_days": 0,
            "fields": [f("name", "text", true), f("uscc", "text", false), kind,
                       f("cap", "number", false), f("est", "date", false), f("addr", "text", false)]
        }))
        .expect("definition")
    })
}

fuzz_target!(|data: &[u8]| {
    let definition = definition();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let Ok(header) = reader.headers() else {
        return;
    };
    let Ok(header) = ImportHeader::new(header.iter(), definition) else {
        return;
    };
    for record in reader.records().take(256) {
        let Ok(record) = record else {
            continue;
        };
        let cells: Vec<&str> = record.iter().collect();
        let Ok((request, key)) = header.request(TYPE_CODE, "seal", &cells) else {
            continue;
        };
        assert!(key.starts_with("csv-"));
        let _ = std::hint::black_box(request.holder.validate());
        if let Ok(values) = definition.check_values(&request.fields) {
            std::hint::black_box(definition.summary(&values));
        }
        for date in [&request.valid_from, &request.valid_until]
            .into_iter()
            .flatten()
        {
            std::hint::black_box(parse_date(date));
        }
    }
});
