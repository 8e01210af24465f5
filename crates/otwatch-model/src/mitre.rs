//! MITRE ATT&CK for ICS: the twelve tactics and the technique table.
//!
//! Technique ids are validated against [`TECHNIQUES`]; a catalogue entry that
//! names an id not in the table is rejected at start-up. Links point at
//! attack.mitre.org.

use serde::{Deserialize, Serialize};

crate::named_enum! {
    /// An ATT&CK for ICS tactic.
    pub enum Tactic: "MITRE ATT&CK for ICS tactic" {
        /// TA0108.
        InitialAccess = "Initial Access" | "IA" | "TA0108",
        /// TA0104.
        Execution = "Execution" | "Exe" | "TA0104",
        /// TA0110.
        Persistence = "Persistence" | "Per" | "TA0110",
        /// TA0111.
        PrivilegeEscalation = "Privilege Escalation" | "PE" | "TA0111",
        /// TA0103.
        Evasion = "Evasion" | "Ev" | "Defense Evasion" | "TA0103",
        /// TA0102.
        Discovery = "Discovery" | "Disc" | "TA0102",
        /// TA0109.
        LateralMovement = "Lateral Movement" | "LM" | "TA0109",
        /// TA0100.
        Collection = "Collection" | "Coll" | "TA0100",
        /// TA0101.
        CommandAndControl = "Command and Control" | "C2" | "TA0101",
        /// TA0107.
        InhibitResponseFunction = "Inhibit Response Function" | "IRF" | "TA0107",
        /// TA0106.
        ImpairProcessControl = "Impair Process Control" | "IPC" | "TA0106",
        /// TA0105.
        Impact = "Impact" | "Imp" | "TA0105",
    }
}

impl Tactic {
    /// The tactic id, e.g. `TA0108`.
    pub fn id(self) -> &'static str {
        match self {
            Tactic::InitialAccess => "TA0108",
            Tactic::Execution => "TA0104",
            Tactic::Persistence => "TA0110",
            Tactic::PrivilegeEscalation => "TA0111",
            Tactic::Evasion => "TA0103",
            Tactic::Discovery => "TA0102",
            Tactic::LateralMovement => "TA0109",
            Tactic::Collection => "TA0100",
            Tactic::CommandAndControl => "TA0101",
            Tactic::InhibitResponseFunction => "TA0107",
            Tactic::ImpairProcessControl => "TA0106",
            Tactic::Impact => "TA0105",
        }
    }

    /// The tactic's page on attack.mitre.org.
    pub fn url(self) -> String {
        format!("https://attack.mitre.org/tactics/{}/", self.id())
    }
}

/// A technique reference, e.g. `T0843` (Program Download).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Technique(String);

impl Technique {
    /// Validates an id against the technique table.
    pub fn parse(id: &str) -> Result<Technique, String> {
        let id = id.trim().to_ascii_uppercase();
        if technique_name(&id).is_some() {
            Ok(Technique(id))
        } else {
            Err(format!(
                "unknown MITRE ATT&CK for ICS technique {id:?} (expected an id like T0843 from the ICS matrix)"
            ))
        }
    }

    /// The id, e.g. `T0843`.
    pub fn id(&self) -> &str {
        &self.0
    }

    /// The technique name from the table.
    pub fn name(&self) -> &'static str {
        technique_name(&self.0).unwrap_or("")
    }

    /// The technique's page on attack.mitre.org.
    pub fn url(&self) -> String {
        format!("https://attack.mitre.org/techniques/{}/", self.0)
    }
}

impl TryFrom<String> for Technique {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Technique::parse(&s)
    }
}

impl From<Technique> for String {
    fn from(t: Technique) -> String {
        t.0
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Looks up a technique name by id.
pub fn technique_name(id: &str) -> Option<&'static str> {
    TECHNIQUES.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

/// ATT&CK for ICS techniques (ids and names, including deprecated ones that
/// published alert mappings still use).
pub const TECHNIQUES: &[(&str, &str)] = &[
    ("T0800", "Activate Firmware Update Mode"),
    ("T0801", "Monitor Process State"),
    ("T0802", "Automated Collection"),
    ("T0803", "Block Command Message"),
    ("T0804", "Block Reporting Message"),
    ("T0805", "Block Serial COM"),
    ("T0806", "Brute Force I/O"),
    ("T0807", "Command-Line Interface"),
    ("T0809", "Data Destruction"),
    ("T0811", "Data from Information Repositories"),
    ("T0812", "Default Credentials"),
    ("T0813", "Denial of Control"),
    ("T0814", "Denial of Service"),
    ("T0815", "Denial of View"),
    ("T0816", "Device Restart/Shutdown"),
    ("T0817", "Drive-by Compromise"),
    ("T0818", "Engineering Workstation Compromise"),
    ("T0819", "Exploit Public-Facing Application"),
    ("T0820", "Exploitation for Evasion"),
    ("T0821", "Modify Controller Tasking"),
    ("T0822", "External Remote Services"),
    ("T0823", "Graphical User Interface"),
    ("T0826", "Loss of Availability"),
    ("T0827", "Loss of Control"),
    ("T0828", "Loss of Productivity and Revenue"),
    ("T0829", "Loss of View"),
    ("T0830", "Adversary-in-the-Middle"),
    ("T0831", "Manipulation of Control"),
    ("T0832", "Manipulation of View"),
    ("T0833", "Modify Control Logic"),
    ("T0834", "Native API"),
    ("T0835", "Manipulate I/O Image"),
    ("T0836", "Modify Parameter"),
    ("T0837", "Loss of Protection"),
    ("T0838", "Modify Alarm Settings"),
    ("T0839", "Module Firmware"),
    ("T0840", "Network Connection Enumeration"),
    ("T0841", "Network Service Scanning"),
    ("T0842", "Network Sniffing"),
    ("T0843", "Program Download"),
    ("T0845", "Program Upload"),
    ("T0846", "Remote System Discovery"),
    ("T0847", "Replication Through Removable Media"),
    ("T0848", "Rogue Master"),
    ("T0849", "Masquerading"),
    ("T0851", "Rootkit"),
    ("T0852", "Screen Capture"),
    ("T0853", "Scripting"),
    ("T0855", "Unauthorized Command Message"),
    ("T0856", "Spoof Reporting Message"),
    ("T0857", "System Firmware"),
    ("T0858", "Change Operating Mode"),
    ("T0859", "Valid Accounts"),
    ("T0860", "Wireless Compromise"),
    ("T0861", "Point & Tag Identification"),
    ("T0862", "Supply Chain Compromise"),
    ("T0863", "User Execution"),
    ("T0864", "Transient Cyber Asset"),
    ("T0865", "Spearphishing Attachment"),
    ("T0866", "Exploitation of Remote Services"),
    ("T0867", "Lateral Tool Transfer"),
    ("T0868", "Detect Operating Mode"),
    ("T0869", "Standard Application Layer Protocol"),
    ("T0871", "Execution through API"),
    ("T0872", "Indicator Removal on Host"),
    ("T0873", "Project File Infection"),
    ("T0874", "Hooking"),
    ("T0877", "I/O Image"),
    ("T0878", "Alarm Suppression"),
    ("T0879", "Damage to Property"),
    ("T0880", "Loss of Safety"),
    ("T0881", "Service Stop"),
    ("T0882", "Theft of Operational Information"),
    ("T0883", "Internet Accessible Device"),
    ("T0884", "Connection Proxy"),
    ("T0885", "Commonly Used Port"),
    ("T0886", "Remote Services"),
    ("T0887", "Wireless Sniffing"),
    ("T0888", "Remote System Information Discovery"),
    ("T0889", "Modify Program"),
    ("T0890", "Exploitation for Privilege Escalation"),
    ("T0891", "Hardcoded Credentials"),
    ("T0892", "Change Credential"),
    ("T0893", "Data from Local System"),
    ("T0894", "System Binary Proxy Execution"),
    ("T0895", "Autorun Image"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_validate() {
        let t = Technique::parse("t0843").unwrap();
        assert_eq!(t.id(), "T0843");
        assert_eq!(t.name(), "Program Download");
        assert_eq!(t.url(), "https://attack.mitre.org/techniques/T0843/");
        assert!(Technique::parse("T9999").is_err());
        assert!(Technique::parse("T1059").is_err(), "enterprise ids are not ICS ids");
    }

    #[test]
    fn tactics_by_abbreviation_and_id() {
        assert_eq!(Tactic::parse("IRF").unwrap(), Tactic::InhibitResponseFunction);
        assert_eq!(Tactic::parse("TA0108").unwrap(), Tactic::InitialAccess);
        assert_eq!(Tactic::ALL.len(), 12);
    }
}
