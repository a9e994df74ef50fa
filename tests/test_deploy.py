import json
from pathlib import Path

import yaml
from kubernetes.client import ApiClient

from assess.config import load_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _docs():
    return {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "cronjob.yaml").read_text())}


def test_cronjob_manifests_deserialize_as_kubernetes_objects():
    docs = _docs()
    api = ApiClient()
    cron = api.deserialize(json.dumps(docs["CronJob"]), "V1CronJob", "application/json")
    pod = cron.spec.job_template.spec.template.spec
    assert pod.service_account_name == docs["ServiceAccount"]["metadata"]["name"]
    assert pod.containers[0].args == ["run", "--config", "/config/assessment.yaml", "--json"]
    assert pod.containers[0].security_context.allow_privilege_escalation is False
    assert pod.automount_service_account_token is False


def test_assessment_service_account_has_no_role_and_no_token():
    # `assess run` calls no Kubernetes API; tests/execute/test_rbac.py asks the real authorizer
    docs = list(yaml.safe_load_all((DEPLOY / "cronjob.yaml").read_text()))
    assert not [d for d in docs if d["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")]
    assert _docs()["ServiceAccount"]["automountServiceAccountToken"] is False


def test_bundled_config_is_valid_and_keeps_the_password_in_a_file(tmp_path):
    text = _docs()["ConfigMap"]["data"]["assessment.yaml"]
    (tmp_path / "assessment.yaml").write_text(text)
    config = load_config(tmp_path / "assessment.yaml")
    assert config.sources.vcenters[0].password_file == Path("/secrets/vcenter/password")
    assert "password:" not in text
