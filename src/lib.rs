pub mod pb {
    tonic::include_proto!("commentguard.v1");
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("commentguard_descriptor");
}

pub mod analysis;
pub mod domain;
pub mod findings;
