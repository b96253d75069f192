//! `govseal licenses import`: the built binary imports a CSV into a running
//! server's database; good rows are issued and fetchable over HTTP, bad rows
//! are reported with their line numbers, and a re-run issues nothing twice.

use crate::common;

use common::{TestApp, random_uscc, spawn_app};
use serde_json::{Value, json};

const TYPE_CODE: &str = "11100000000013127D002";
const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A department with a seal, allowed to issue a three-field type; returns the seal id.
async fn seal_and_type(app: &TestApp) -> String {
    let d = app.create_department("福州市市场监督管理局").await;
    let dept = d["id"].as_str().unwrap().to_string();
    let token = app.create_client(&dept, &["seals:manage"]).await;
    let r = app
        .post(
            "/v1/seals",
            Some(&token),
            &json!({ "department_id": dept, "type": "approval" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let seal: Value = r.json().await.unwrap();
    let f = |key: &str, zh: &str, en: &str, ty: &str, required: bool| json!({"key": key, "label_zh": zh, "label_en": en, "type": ty, "required": required, "on_qr": true});
    let body = json!({
        "code": TYPE_CODE, "name_zh": "食品经营许可证", "name_en": "Food Business Licence",
        "issuers": [dept], "validity_days": 1825,
        "fields": [f("name", "经营者名称", "Operator", "text", true),
                   f("addr", "经营场所", "Premises", "text", true),
                   f("cap", "面积（平方米）", "Area", "number", false)]
    });
    let r = app
        .post("/v1/license-types", Some(&app.admin_token), &body)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    seal["id"].as_str().unwrap().to_string()
}

/// Runs the import: (exit code, stdout, stderr).
/// Runs `govseal licenses import` without blocking the test's runtime: the
/// app's own tasks (the log sequencer, which may hold a row lock the import
/// waits for) must keep running meanwhile.
async fn import(
    app: &TestApp,
    csv: &std::path::Path,
    seal: &str,
    errors: &std::path::Path,
) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
        .args(["licenses", "import"])
        .arg(csv)
        .args([
            "--type",
            TYPE_CODE,
            "--seal",
            seal,
            "--database-url",
            &app.database_url,
        ])
        .arg("--data")
        .arg(app.dir.path().join("data"))
        .arg("--certs")
        .arg(app.certs())
        .args(["--public-url", &app.url])
        .arg("--errors")
        .arg(errors)
        .env("GOVSEAL_MASTER_KEY", MASTER_KEY)
        .env_remove("GOVSEAL_DATABASE_URL")
        .output()
        .await
        .expect("run govseal");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn licenses_of(app: &TestApp, holder_id: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/licenses?holder_id={holder_id}"),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn good_rows_are_issued_bad_rows_are_named_and_a_rerun_issues_nothing_twice() {
    let app = spawn_app().await;
    let seal = seal_and_type(&app).await;
    let good: Vec<String> = (0..3).map(|_| random_uscc()).collect();
    let mut bad_check = random_uscc();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let csv = format!(
        "holder_name,holder_id_type,holder_id,valid_from,valid_until,name,addr,cap\n\
         福州甲餐饮有限公司,uscc,{g0},2024-01-01,2028-12-31,福州甲餐饮有限公司,福州市鼓楼区五四路1号,120\n\
         福州乙餐饮有限公司,uscc,{bad_check},,,福州乙餐饮有限公司,福州市鼓楼区五四路2号,\n\
         \"福州丙餐饮有限公司\",uscc,{g1},,,福州丙餐饮有限公司,\"福州市台江区, 八一七中路3号\",80\n\
         福州丁餐饮有限公司,uscc,{g2b},,,,福州市仓山区4号,\n\
         福州戊餐饮有限公司,uscc,{g2},,,福州戊餐饮有限公司,福州市晋安区5号,60,多余\n\
         福州己餐饮有限公司,uscc,{g2},,,福州己餐饮有限公司,福州市马尾区6号,\n",
        g0 = good[0],
        g1 = good[1],
        g2 = good[2],
        g2b = random_uscc(),
    );
    let file = app.dir.path().join("licenses.csv");
    std::fs::write(&file, csv).unwrap();
    let errors = app.dir.path().join("errors.csv");

    let (code, stdout, stderr) = import(&app, &file, &seal, &errors).await;
    assert_eq!(
        code, 1,
        "a failed row gives exit code 1\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("imported 3, skipped as already imported 0, failed 3"),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains("line 3: holder.id:"), "{stderr}");
    assert!(
        stderr.contains("line 5: fields.name: is required"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6: 9 cells, but the header has 8 columns"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(&errors).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "line,field,error");
    assert_eq!(lines.len(), 4, "{report}");

    for id in &good {
        let found = licenses_of(&app, id).await;
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        let license = &found[0];
        assert_eq!(license["status"], "valid");
        let id = license["id"].as_str().unwrap();
        let pdf = app
            .get(&format!("/v1/licenses/{id}/pdf"), Some(&app.admin_token))
            .await;
        assert_eq!(pdf.status(), 200);
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    }
    assert!(licenses_of(&app, &bad_check).await.is_empty());

    // A re-run: the three good rows are recognised, nothing is issued again.
    let (code, stdout, stderr) = import(&app, &file, &seal, &errors).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("imported 0, skipped as already imported 3, failed 3"),
        "{stdout}\n{stderr}"
    );
    for id in &good {
        assert_eq!(licenses_of(&app, id).await.len(), 1);
    }
}

#[tokio::test]
async fn an_unknown_header_column_stops_the_import_before_any_row() {
    let app = spawn_app().await;
    let seal = seal_and_type(&app).await;
    let holder = random_uscc();
    let file = app.dir.path().join("licenses.csv");
    std::fs::write(
        &file,
        format!("holder_name,holder_id_type,holder_id,name,addr,colour\n某店,uscc,{holder},某店,某地,红\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = import(&app, &file, &seal, &app.dir.path().join("e.csv")).await;
    assert_eq!(code, 65, "{stdout}\n{stderr}");
    assert!(stderr.contains("unknown column \"colour\""), "{stderr}");
    assert!(licenses_of(&app, &holder).await.is_empty());
}
