use serde_json::json;

use super::*;

fn definition() -> LicenseTypeDefinition {
    serde_json::from_value(json!({
        "code": "11100000000013127D001",
        "name_zh": "营业执照", "name_en": "Business licence",
        "issuers": ["d1"], "validity_days": 0,
        "fields": [
            {"key": "name", "label_zh": "名称", "label_en": "Name", "type": "text", "required": true, "on_qr": true},
            {"key": "est", "label_zh": "成立日期", "label_en": "Established", "type": "date", "required": true},
            {"key": "cap", "label_zh": "注册资本", "label_en": "Capital", "type": "number"},
            {"key": "kind", "label_zh": "类型", "label_en": "Kind", "type": "enum", "values": ["有限责任公司", "个体工商户"], "on_qr": true}
        ]
    }))
    .unwrap()
}

fn values(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn a_good_definition_and_values_pass_in_display_order() {
    let d = definition();
    d.validate().unwrap();
    let out = d
        .check_values(&values(
            json!({"kind": "个体工商户", "cap": 500, "est": "2019-03-18", "name": "某公司"}),
        ))
        .unwrap();
    let keys: Vec<_> = out.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["name", "est", "cap", "kind"]);
    let summary = d.summary(&out);
    assert_eq!(summary.len(), 2);
    assert_eq!(summary[1], ("kind".to_string(), "个体工商户".to_string()));
}

#[test]
fn each_bad_value_names_its_field() {
    let d = definition();
    let cases = [
        (json!({"est": "2019-03-18"}), "fields.name"),
        (json!({"name": "x"}), "fields.est"),
        (json!({"name": "x", "est": "2019-02-30"}), "fields.est"),
        (
            json!({"name": "x", "est": "2019-03-18", "cap": "五百"}),
            "fields.cap",
        ),
        (
            json!({"name": "x", "est": "2019-03-18", "kind": "合伙"}),
            "fields.kind",
        ),
        (
            json!({"name": "x", "est": "2019-03-18", "color": "red"}),
            "fields.color",
        ),
        (json!({"name": 5, "est": "2019-03-18"}), "fields.name"),
    ];
    for (input, field) in cases {
        let e = d.check_values(&values(input.clone())).unwrap_err();
        assert_eq!(e.field, field, "{input}");
    }
}

#[test]
fn bad_definitions_are_refused() {
    let mut d = definition();
    d.code = "11100000000013127X001".into();
    assert_eq!(d.validate().unwrap_err().field, "code");
    let mut d = definition();
    d.fields[3].values = None;
    assert_eq!(d.validate().unwrap_err().field, "fields[3].values");
    let mut d = definition();
    d.fields[1].key = "name".into();
    assert_eq!(d.validate().unwrap_err().field, "fields[1].key");
}

#[test]
fn holder_ids_need_their_check_character() {
    let ok = Holder {
        name: "张三".into(),
        id_type: HolderIdType::Resident,
        id: "11010519491231002X".into(),
    };
    assert_eq!(ok.validate().unwrap().as_str(), "110***********002X");
    let bad = Holder {
        id: "110105194912310021".into(),
        ..ok
    };
    assert_eq!(bad.validate().unwrap_err().field, "holder.id");
    let company = Holder {
        name: "某公司".into(),
        id_type: HolderIdType::Uscc,
        id: "91110000600037341M".into(),
    };
    assert_eq!(company.validate().unwrap_err().field, "holder.id");
}
